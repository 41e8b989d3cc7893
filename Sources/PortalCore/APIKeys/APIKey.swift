import Foundation

/// A person's API key (SPEC §7, after DocSpace's `ApiKeysController`): `sk-` and 64 lowercase hex
/// characters, shown once and stored only as its SHA-256; it acts as its creator within its
/// permissions, which are scopes of SPEC §2, and the creator's role still decides.
public struct APIKey: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The last four characters, shown in the masked key (`sk-***abcd`).
    public var postfix: String
    /// What was granted, as stored: scopes, `*:read`, `*:write`, or `*` alone (every scope).
    public var permissions: [String]
    public var personID: PersonID
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsed: Date?
    public var isActive: Bool

    public init(id: String, name: String, postfix: String, permissions: [String], personID: PersonID, createdAt: Date, expiresAt: Date?,
                lastUsed: Date?, isActive: Bool) {
        self.id = id
        self.name = name
        self.postfix = postfix
        self.permissions = permissions
        self.personID = personID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsed = lastUsed
        self.isActive = isActive
    }

    /// `sk-***` and the last four characters, as the key shows everywhere but at its creation.
    public var masked: String { "sk-***" + postfix }

    /// Whether the key may act at `now`.
    public func isUsable(at now: Date) -> Bool { isActive && !isExpired(at: now) }

    public func isExpired(at now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }

    /// The scopes the key holds: its permissions with `*`, `*:read` and `*:write` spelled out.
    public var scopes: Set<String> { APIKeyRules.scopes(of: permissions) }
}

/// The rules of API keys: their form, names, permissions and lifetimes (SPEC §7).
public enum APIKeyRules {
    /// The scopes a key can hold: the read and write scopes of SPEC §2, without `openid`.
    public static let scopeNames = ["accounts.self:read", "accounts.self:write", "accounts:read", "accounts:write",
                                    "files:read", "files:write", "rooms:read", "rooms:write"]
    /// `GET /api/2.0/keys/permissions`: the eight scopes, `*:read` and `*:write`.
    public static let permissionNames = scopeNames + ["*:read", "*:write"]
    public static let maximumNameLength = 30
    public static let lifetimeDays = 1...365

    /// A new key: `sk-` and 64 lowercase hex characters (32 random bytes).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return "sk-" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Whether `text` has a key's exact form; anything else is never looked up as one.
    public static func hasKeyForm<S: StringProtocol>(_ text: S) -> Bool {
        let bytes = text.utf8
        guard bytes.count == 67, bytes.starts(with: "sk-".utf8) else { return false }
        return bytes.dropFirst(3).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    public enum Problem: Error, Equatable, Sendable {
        case name, permissions(unknown: [String]), lifetime
        /// A sentence naming the field.
        public var message: String {
            switch self {
            case .name: "The name must be 1 to \(maximumNameLength) characters."
            case .permissions(let unknown): "Unknown permissions: \(unknown.joined(separator: ", ")). See GET /api/2.0/keys/permissions."
            case .lifetime: "expiresInDays must be a whole number from \(lifetimeDays.lowerBound) to \(lifetimeDays.upperBound), or null."
            }
        }
    }

    /// A name as stored (trimmed), or why not.
    public static func name(_ raw: String) -> Result<String, Problem> {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= maximumNameLength, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return .failure(.name) }
        return .success(name)
    }

    /// Permissions as stored: each known, each once, in the catalog's order; `*` or none at all is
    /// every scope, stored (and shown) as `["*"]`.
    public static func permissions(_ requested: [String]) -> Result<[String], Problem> {
        let unknown = requested.filter { $0 != "*" && !permissionNames.contains($0) }
        guard unknown.isEmpty else { return .failure(.permissions(unknown: unknown)) }
        if requested.isEmpty || requested.contains("*") { return .success(["*"]) }
        return .success(permissionNames.filter(requested.contains))
    }

    /// The scopes `permissions` (as stored) grant.
    public static func scopes(of permissions: [String]) -> Set<String> {
        var scopes = Set<String>()
        for permission in permissions {
            switch permission {
            case "*": scopes.formUnion(scopeNames)
            case "*:read": scopes.formUnion(scopeNames.filter { $0.hasSuffix(":read") })
            case "*:write": scopes.formUnion(scopeNames.filter { $0.hasSuffix(":write") })
            default: if scopeNames.contains(permission) { scopes.insert(permission) }
            }
        }
        return scopes
    }

    /// The expiry of a key made at `now` to live `days` days (`nil`: no expiry).
    public static func expiry(days: Int?, from now: Date) -> Result<Date?, Problem> {
        guard let days else { return .success(nil) }
        guard lifetimeDays.contains(days) else { return .failure(.lifetime) }
        return .success(now.addingTimeInterval(TimeInterval(days) * 86_400))
    }
}

/// Storage of API keys.
public protocol APIKeyStore: Sendable {
    /// Stores a new key under the SHA-256 of its secret, unless its person already has `limit` keys:
    /// `false` then, and nothing is written (decided in the same transaction).
    func create(_ key: APIKey, secretHash: String, limit: Int) async throws -> Bool
    /// The usable-or-not key with this secret hash, with its person.
    func find(secretHash: String) async throws -> (key: APIKey, person: Person)?
    /// The key with this id, with its person.
    func find(id: String) async throws -> (key: APIKey, person: Person)?
    /// A person's keys, or every key (`nil`), newest first, each with its creator.
    func list(personID: PersonID?) async throws -> [(key: APIKey, person: Person)]
    /// Changes only what is given (name, permissions, state), in one statement, so that two changes
    /// at once never undo each other; the key as it is then, or `nil` when it is gone.
    func update(id: String, name: String?, permissions: [String]?, isActive: Bool?) async throws -> APIKey?
    /// Removes a key; `false` when it was gone.
    func delete(id: String) async throws -> Bool
    /// Records a use.
    func touch(id: String, at: Date) async throws
    /// Marks keys expired by `now` inactive (housekeeping); answers how many.
    func deactivateExpired(now: Date) async throws -> Int
}
