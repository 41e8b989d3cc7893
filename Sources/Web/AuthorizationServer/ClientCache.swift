import Foundation
import OAuthCore
import Synchronization

/// A short-lived in-memory copy of registered apps for the hot paths (authorize, token,
/// introspection): every change made here drops the entry at once, changes made by other processes
/// arrive through the feed within a second, and nothing is kept longer than `lifetime` anyway.
public final class ClientCache: ClientStore, Sendable {
    private let store: any ClientStore
    private let entries = Mutex<[ClientID: (client: RegisteredClient?, loadedAt: ContinuousClock.Instant)]>([:])
    private let origins = Mutex<(origins: Set<String>, loadedAt: ContinuousClock.Instant)?>(nil)
    private let lifetime: Duration

    public init(store: any ClientStore, lifetime: Duration = .seconds(5)) {
        self.store = store
        self.lifetime = lifetime
    }

    /// Forgets one app (or all) so the next lookup reads the database.
    func invalidate(_ clientID: ClientID? = nil) {
        entries.withLock { entries in
            if let clientID { entries[clientID] = nil } else { entries.removeAll() }
        }
        origins.withLock { $0 = nil }
    }

    public func find(_ clientID: ClientID) async throws -> RegisteredClient? {
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0[clientID] }), now - cached.loadedAt < lifetime { return cached.client }
        let client = try await store.find(clientID)
        entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[clientID] = (client, now)
        }
        return client
    }

    public func create(_ client: RegisteredClient, logo: Icon, limits: ClientLimits) async throws {
        try await store.create(client, logo: logo, limits: limits)
        invalidate(client.clientID)
    }

    public func find(id: String) async throws -> RegisteredClient? { try await store.find(id: id) }

    public func logo(_ clientID: ClientID) async throws -> Icon? { try await store.logo(clientID) }

    public func list(createdBy: String?, after: ClientPageCursor?, limit: Int) async throws -> [RegisteredClient] {
        try await store.list(createdBy: createdBy, after: after, limit: limit)
    }

    public func update(_ client: RegisteredClient, logo: Icon?, stamp: ChangeStamp, changedFields: [String]) async throws -> Bool {
        defer { invalidate(client.clientID) }
        return try await store.update(client, logo: logo, stamp: stamp, changedFields: changedFields)
    }

    public func replaceRegistrationToken(_ clientID: ClientID, current: String, next: String) async throws -> Bool {
        defer { invalidate(clientID) }
        return try await store.replaceRegistrationToken(clientID, current: current, next: next)
    }

    public func replaceSecret(_ clientID: ClientID, secretHash: String, stamp: ChangeStamp) async throws -> Bool {
        defer { invalidate(clientID) }
        return try await store.replaceSecret(clientID, secretHash: secretHash, stamp: stamp)
    }

    public func setEnabled(_ clientID: ClientID, _ enabled: Bool, stamp: ChangeStamp) async throws -> Bool {
        defer { invalidate(clientID) }
        return try await store.setEnabled(clientID, enabled, stamp: stamp)
    }

    public func delete(_ clientID: ClientID, stamp: ChangeStamp) async throws -> Bool {
        defer { invalidate(clientID) }
        return try await store.delete(clientID, stamp: stamp)
    }

    /// The origins of every enabled app (for CORS preflights), dropped whenever any app changes.
    public func enabledOrigins() async throws -> Set<String> {
        let now = ContinuousClock.now
        if let cached = origins.withLock({ $0 }), now - cached.loadedAt < lifetime { return cached.origins }
        let loaded = try await store.enabledOrigins()
        origins.withLock { $0 = (loaded, now) }
        return loaded
    }

    public func auditLog(_ filter: ClientAuditFilter, limit: Int) async throws -> [ClientAuditEntry] {
        try await store.auditLog(filter, limit: limit)
    }
}
