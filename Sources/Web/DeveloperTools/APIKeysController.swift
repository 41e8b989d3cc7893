import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// API keys (SPEC §7, after DocSpace's `ApiKeysController`), in DocSpace's envelope: a person makes,
/// lists, changes and removes their keys (admins see and manage everyone's); a key calls the portal
/// API as its creator within its permissions (`CallerAuthentication`, `RouteGate`).
struct APIKeysController {
    let management: APIKeyManagement

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
            let body = try await RequestBody.json(NewKey.self, from: request)
            let made = try await management.create(name: body.name, permissions: body.permissions ?? [], lifetimeDays: body.expiresInDays, by: me)
            return try DocSpaceEnvelope.response(KeyJSON(made.key, creator: me, secret: made.secret), status: .created)
        }
        routes.get("/keys", .apiKeys(anyKey: false)) { _, context in
            let listed = try await management.visible(to: try PortalAPI.caller(context))
            return try DocSpaceEnvelope.response(listed.map { KeyJSON($0.key, creator: $0.person) }, count: listed.count)
        }
        routes.get("/keys/@self", .apiKeys(anyKey: true)) { _, context in
            guard let caller = context.caller else { throw AppError.unauthorized("Send an API key as the bearer token.") }
            // Made with a session or a portal token, the request has no key to show.
            guard case .apiKey(let key) = caller else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(KeyJSON(key.key, creator: key.person))
        }
        routes.put("/keys/{id}", .apiKeys(anyKey: false)) { request, context in
            let me = try PortalAPI.caller(context)
            let change = try await RequestBody.json(KeyChange.self, from: request)
            let changed = try await management.update(try context.parameters.require("id"), name: change.name, permissions: change.permissions,
                                                      isActive: change.isActive, by: me)
            return try DocSpaceEnvelope.response(KeyJSON(changed.key, creator: changed.creator))
        }
        routes.delete("/keys/{id}", .apiKeys(anyKey: false)) { _, context in
            let removed = try await management.delete(try context.parameters.require("id"), by: try PortalAPI.caller(context))
            return try DocSpaceEnvelope.response(KeyJSON(removed.key, creator: removed.creator))
        }
    }
}
