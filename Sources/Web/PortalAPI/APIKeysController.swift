import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// API keys (SPEC §7, after DocSpace's `ApiKeysController`), in DocSpace's envelope: a person makes,
/// lists, changes and removes their keys (admins see and manage everyone's); a key calls the portal
/// API as its creator within its permissions (`CallerAuthentication`, `RouteGate`).
struct APIKeysController {
    let keys: any APIKeyStore
    let perPerson: Int
    let clock: any TimeSource

    /// The key object; `key` is the whole secret only in the answer that made it.
    struct KeyJSON: Encodable, Sendable {
        struct Creator: Encodable, Sendable {
            let id: String
            let displayName: String
            let email: String
        }
        let id: String
        let name: String
        let key: String
        let keyPostfix: String
        let permissions: [String]
        let lastUsed: String?
        let createOn: String
        let createBy: Creator
        let expiresAt: String?
        let isActive: Bool

        enum CodingKeys: String, CodingKey {
            case id, name, key, keyPostfix, permissions, lastUsed, createOn, createBy, expiresAt, isActive
        }

        /// Every field always, `null` for a key never used or without expiry.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(key, forKey: .key)
            try container.encode(keyPostfix, forKey: .keyPostfix)
            try container.encode(permissions, forKey: .permissions)
            try container.encode(lastUsed, forKey: .lastUsed)
            try container.encode(createOn, forKey: .createOn)
            try container.encode(createBy, forKey: .createBy)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(isActive, forKey: .isActive)
        }

        init(_ key: APIKey, creator: Person, secret: String? = nil) {
            id = key.id
            name = key.name
            self.key = secret ?? key.masked
            keyPostfix = key.postfix
            permissions = key.permissions
            lastUsed = key.lastUsed.map(RFC3339.string)
            createOn = RFC3339.string(key.createdAt)
            createBy = Creator(id: creator.id.rawValue, displayName: creator.displayName, email: creator.email)
            expiresAt = key.expiresAt.map(RFC3339.string)
            isActive = key.isActive
        }
    }

    struct NewKey: Decodable {
        let name: String
        let permissions: [String]?
        let expiresInDays: Int?
    }

    struct KeyChange: Decodable {
        let name: String?
        let permissions: [String]?
        let isActive: Bool?
    }

    func addRoutes(to routes: RouteGroup) {
        routes.get("/keys/permissions", .apiKeys(anyKey: false)) { _, _ in
            try DocSpaceEnvelope.response(APIKeyRules.permissionNames, count: APIKeyRules.permissionNames.count)
        }
        routes.post("/keys", .apiKeys(anyKey: false)) { request, context in
            let me = try PortalAPI.caller(context)
            guard me.role != .guest else { throw AppError.forbidden("Guests cannot create API keys.") }
            let body = try await RequestBody.json(NewKey.self, from: request)
            let now = clock.now
            let name = try Self.checked(APIKeyRules.name(body.name))
            let permissions = try Self.checked(APIKeyRules.permissions(body.permissions ?? []))
            let expiresAt = try Self.checked(APIKeyRules.expiry(days: body.expiresInDays, from: now))
            let secret = APIKeyRules.generate()
            let key = APIKey(id: UUID().uuidString.lowercased(), name: name, postfix: String(secret.suffix(4)), permissions: permissions,
                             personID: me.id, createdAt: now, expiresAt: expiresAt, lastUsed: nil, isActive: true)
            guard try await keys.create(key, secretHash: OpaqueToken.hash(secret), limit: perPerson) else {
                throw AppError.badRequest("You have \(perPerson) API keys, the most a person may have. Delete one first.")
            }
            return try DocSpaceEnvelope.response(KeyJSON(key, creator: me, secret: secret), status: .created)
        }
        routes.get("/keys", .apiKeys(anyKey: false)) { _, context in
            let me = try PortalAPI.caller(context)
            let listed = try await keys.list(personID: me.role.isAdministrator ? nil : me.id)
            return try DocSpaceEnvelope.response(listed.map { KeyJSON($0.key, creator: $0.person) }, count: listed.count)
        }
        routes.get("/keys/@self", .apiKeys(anyKey: true)) { _, context in
            guard let caller = context.caller else { throw AppError.unauthorized("Send an API key as the bearer token.") }
            guard case .apiKey(let key) = caller else { throw AppError.badRequest("This request was not made with an API key.") }
            return try DocSpaceEnvelope.response(KeyJSON(key.key, creator: key.person))
        }
        routes.put("/keys/{id}", .apiKeys(anyKey: false)) { request, context in
            let me = try PortalAPI.caller(context)
            let (key, creator) = try await managed(context, by: me)
            let change = try await RequestBody.json(KeyChange.self, from: request)
            let name = try change.name.map { try Self.checked(APIKeyRules.name($0)) }
            let permissions = try change.permissions.map { try Self.checked(APIKeyRules.permissions($0)) }
            // An admin may narrow, turn off or remove another person's key, never widen it: the key acts
            // as that person, who did not ask for more.
            if let permissions, me.id != key.personID, !APIKeyRules.scopes(of: permissions).isSubset(of: key.scopes) {
                throw AppError.forbidden("Only the key's creator may widen its permissions.")
            }
            // An expiry never changes, so this holds however the key's state changes meanwhile.
            if change.isActive == true, key.isExpired(at: clock.now) {
                throw AppError.badRequest("The key has expired; an expired key cannot be activated again. Create a new one.")
            }
            guard let changed = try await keys.update(id: key.id, name: name, permissions: permissions, isActive: change.isActive) else {
                throw AppError.notFound
            }
            return try DocSpaceEnvelope.response(KeyJSON(changed, creator: creator))
        }
        routes.delete("/keys/{id}", .apiKeys(anyKey: false)) { _, context in
            let me = try PortalAPI.caller(context)
            let (key, creator) = try await managed(context, by: me)
            guard try await keys.delete(id: key.id) else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(KeyJSON(key, creator: creator))
        }
    }

    /// The key of the path, if `me` may manage it (its creator or an admin); 404 otherwise, so
    /// nobody learns of another person's keys.
    private func managed(_ context: AppRequestContext, by me: Person) async throws -> (key: APIKey, creator: Person) {
        guard let id = context.parameters.get("id"), let found = try await keys.find(id: id),
              found.key.personID == me.id || me.role.isAdministrator
        else { throw AppError.notFound }
        return (found.key, found.person)
    }

    private static func checked<T>(_ result: Result<T, APIKeyRules.Problem>) throws -> T {
        switch result {
        case .success(let value): return value
        case .failure(let problem): throw AppError.badRequest(problem.message)
        }
    }
}
