import Foundation
import OAuthCore
import PortalCore

/// What a person may do with API keys (SPEC §7), for the REST API and the page alike: make one (not
/// a guest; within the per-person limit), change or remove their own (an admin: anyone's, narrowing
/// but never widening another person's), never turn an expired one on again. Refusals are `AppError`s.
struct APIKeyManagement: Sendable {
    let keys: any APIKeyStore
    let perPerson: Int
    let clock: any TimeSource

    /// A new key for `person`; answers it and its secret, which is shown this once.
    func create(name rawName: String, permissions rawPermissions: [String], lifetimeDays: Int?, by person: Person) async throws
        -> (key: APIKey, secret: String)
    {
        guard person.role != .guest else { throw AppError.forbidden("Guests cannot create API keys.") }
        let now = clock.now
        let name = try Self.checked(APIKeyRules.name(rawName))
        let permissions = try Self.checked(APIKeyRules.permissions(rawPermissions))
        let expiresAt = try Self.checked(APIKeyRules.expiry(days: lifetimeDays, from: now))
        let secret = APIKeyRules.generate()
        let key = APIKey(id: UUID().uuidString.lowercased(), name: name, postfix: String(secret.suffix(4)), permissions: permissions,
                         personID: person.id, createdAt: now, expiresAt: expiresAt, lastUsed: nil, isActive: true)
        guard try await keys.create(key, secretHash: OpaqueToken.hash(secret), limit: perPerson) else {
            throw AppError.badRequest("You have \(perPerson) API keys, the most a person may have. Delete one first.")
        }
        return (key, secret)
    }

    /// The keys `person` sees: their own, or every key for an admin.
    func visible(to person: Person) async throws -> [(key: APIKey, person: Person)] {
        try await keys.list(personID: person.role.isAdministrator ? nil : person.id)
    }

    /// The key `id` with its creator, if `person` may manage it; 404 otherwise, so nobody learns of
    /// another person's keys.
    func manageable(_ id: String, by person: Person) async throws -> (key: APIKey, creator: Person) {
        guard let found = try await keys.find(id: id), found.key.personID == person.id || person.role.isAdministrator else {
            throw AppError.notFound
        }
        return (found.key, found.person)
    }

    /// Changes what is given; answers the key as it is then.
    func update(_ id: String, name rawName: String?, permissions rawPermissions: [String]?, isActive: Bool?, by person: Person)
        async throws -> (key: APIKey, creator: Person)
    {
        let (key, creator) = try await manageable(id, by: person)
        let name = try rawName.map { try Self.checked(APIKeyRules.name($0)) }
        let permissions = try rawPermissions.map { try Self.checked(APIKeyRules.permissions($0)) }
        // An admin may narrow, turn off or remove another person's key, never widen it: the key acts
        // as that person, who did not ask for more.
        if let permissions, person.id != key.personID, !APIKeyRules.scopes(of: permissions).isSubset(of: key.scopes) {
            throw AppError.forbidden("Only the key's creator may widen its permissions.")
        }
        // An expiry never changes, so this holds however the key's state changes meanwhile.
        if isActive == true, key.isExpired(at: clock.now) {
            throw AppError.badRequest("The key has expired; an expired key cannot be activated again. Create a new one.")
        }
        guard let changed = try await keys.update(id: key.id, name: name, permissions: permissions, isActive: isActive) else {
            throw AppError.notFound
        }
        return (changed, creator)
    }

    /// Removes a key; answers it as it was.
    func delete(_ id: String, by person: Person) async throws -> (key: APIKey, creator: Person) {
        let found = try await manageable(id, by: person)
        guard try await keys.delete(id: found.key.id) else { throw AppError.notFound }
        return found
    }

    private static func checked<T>(_ result: Result<T, APIKeyRules.Problem>) throws -> T {
        switch result {
        case .success(let value): return value
        case .failure(let problem): throw AppError.badRequest(problem.message)
        }
    }
}
