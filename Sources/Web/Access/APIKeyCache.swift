import Foundation
import PortalCore
import Synchronization

/// The API key store with this process's recent look-ups kept for a second, so a key calling many
/// times a second costs one database read a second rather than one a call. A change made here clears
/// them at once; one made by another process is seen within the second (SPEC §7 asks for 2 s).
public final class APIKeyCache: APIKeyStore {
    private let store: any APIKeyStore
    private let lifetime: Duration
    private let found = Mutex<[String: (key: APIKey, person: Person, at: ContinuousClock.Instant)]>([:])
    static let capacity = 10_000

    public init(store: any APIKeyStore, lifetime: Duration = .seconds(1)) {
        self.store = store
        self.lifetime = lifetime
    }

    public func find(secretHash: String) async throws -> (key: APIKey, person: Person)? {
        let now = ContinuousClock.now
        if let hit = found.withLock({ $0[secretHash] }), now - hit.at < lifetime { return (hit.key, hit.person) }
        guard let fresh = try await store.find(secretHash: secretHash) else { return nil }
        found.withLock { found in
            if found.count >= Self.capacity { found.removeAll(keepingCapacity: true) }
            found[secretHash] = (fresh.key, fresh.person, now)
        }
        return fresh
    }

    private func forget() { found.withLock { $0.removeAll(keepingCapacity: true) } }

    public func create(_ key: APIKey, secretHash: String, limit: Int) async throws -> Bool {
        try await store.create(key, secretHash: secretHash, limit: limit)
    }

    public func find(id: String) async throws -> (key: APIKey, person: Person)? { try await store.find(id: id) }

    public func list(personID: PersonID?) async throws -> [(key: APIKey, person: Person)] { try await store.list(personID: personID) }

    public func update(id: String, name: String?, permissions: [String]?, isActive: Bool?) async throws -> APIKey? {
        defer { forget() }
        return try await store.update(id: id, name: name, permissions: permissions, isActive: isActive)
    }

    public func delete(id: String) async throws -> Bool {
        defer { forget() }
        return try await store.delete(id: id)
    }

    public func touch(id: String, at now: Date) async throws { try await store.touch(id: id, at: now) }

    public func deactivateExpired(now: Date) async throws -> Int {
        defer { forget() }
        return try await store.deactivateExpired(now: now)
    }
}
