import Foundation

/// A code as stored: only its hash, with everything it is bound to (RFC 6749 §4.1.2, §10.5).
public struct IssuedCode: Sendable, Equatable {
    public var codeHash: String
    /// The grant the code starts: every token from it carries this id, so reuse can revoke them all.
    public var grantID: GrantID
    public var clientID: ClientID
    public var personID: SubjectID
    public var redirectURI: String
    public var redirectURIWasGiven: Bool
    public var scopes: [String]
    public var nonce: String?
    public var codeChallenge: String?
    public var authTime: Date
    public var createdAt: Date
    public var expiresAt: Date
    public var consumedAt: Date?
    /// The resources granted (RFC 8707), kept with the grant; empty: the issuer.
    public var resources: [String]

    public init(codeHash: String, grantID: GrantID, clientID: ClientID, personID: SubjectID, redirectURI: String,
                redirectURIWasGiven: Bool, scopes: [String], nonce: String?, codeChallenge: String?, authTime: Date,
                createdAt: Date, expiresAt: Date, consumedAt: Date? = nil, resources: [String] = []) {
        self.resources = resources
        self.codeHash = codeHash
        self.grantID = grantID
        self.clientID = clientID
        self.personID = personID
        self.redirectURI = redirectURI
        self.redirectURIWasGiven = redirectURIWasGiven
        self.scopes = scopes
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.authTime = authTime
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.consumedAt = consumedAt
    }
}

/// A refresh token as stored (its hash only).
public struct StoredRefreshToken: Sendable, Equatable {
    public var tokenHash: String
    public var grantID: GrantID
    public var clientID: ClientID
    public var personID: SubjectID
    public var scopes: [String]
    public var authTime: Date
    public var createdAt: Date
    public var expiresAt: Date
    public var rotatedAt: Date?
    /// The resources of its grant (RFC 8707), read from the grant; empty: the issuer.
    public var resources: [String]

    public init(tokenHash: String, grantID: GrantID, clientID: ClientID, personID: SubjectID, scopes: [String], authTime: Date,
                createdAt: Date, expiresAt: Date, rotatedAt: Date? = nil, resources: [String] = []) {
        self.resources = resources
        self.tokenHash = tokenHash
        self.grantID = grantID
        self.clientID = clientID
        self.personID = personID
        self.scopes = scopes
        self.authTime = authTime
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.rotatedAt = rotatedAt
    }
}

/// What a person allowed an app.
public struct Consent: Sendable, Equatable {
    public var personID: SubjectID
    public var clientID: ClientID
    public var scopes: [String]
    public var createdAt: Date
    public var modifiedAt: Date

    public init(personID: SubjectID, clientID: ClientID, scopes: [String], createdAt: Date, modifiedAt: Date) {
        self.personID = personID
        self.clientID = clientID
        self.scopes = scopes
        self.createdAt = createdAt
        self.modifiedAt = modifiedAt
    }
}

/// One line of the append-only revocation feed every process polls.
public struct RevocationEntry: Sendable, Equatable {
    public var id: Int
    public var revocation: Revocation
    /// When it was revoked, in milliseconds since 1970.
    public var createdAtMilliseconds: Int64
    public var expiresAt: Date

    public init(id: Int, revocation: Revocation, createdAtMilliseconds: Int64, expiresAt: Date) {
        self.id = id
        self.revocation = revocation
        self.createdAtMilliseconds = createdAtMilliseconds
        self.expiresAt = expiresAt
    }
}

/// What a revocation covers, as a typed value. The feed stores it as a kind and a value; this is the
/// one place that spelling is made (`feedKind`, `feedValue`) and read (`init(feedKind:value:)`).
public enum Revocation: Sendable, Hashable {
    /// One access token, by `jti` (RFC 7009).
    case token(jti: String)
    /// Every token of a grant (refresh token revoked or reused).
    case grant(id: GrantID)
    /// Every token issued to an app before the entry (disabled or deleted).
    case client(ClientID)
    /// Every token of one person for one app issued before the entry (consent withdrawn).
    case consent(ClientID, personID: SubjectID)
    /// Every token of a person issued before the entry (removed from the portal).
    case person(id: SubjectID)
    /// Not a revocation: the app changed (secret, settings), so caches of it must be dropped.
    case clientChanged(ClientID)

    /// The feed's `kind` column.
    public var feedKind: String {
        switch self {
        case .token: "token"
        case .grant: "grant"
        case .client: "client"
        case .consent: "consent"
        case .person: "person"
        case .clientChanged: "client_changed"
        }
    }

    /// The feed's `value` column.
    public var feedValue: String {
        switch self {
        case .token(let jti): jti
        case .grant(let id): id.rawValue
        case .person(let id): id.rawValue
        case .client(let client), .clientChanged(let client): client.rawValue
        case .consent(let client, let person): client.rawValue + " " + person.rawValue
        }
    }

    /// The revocation a feed row holds; `nil` for a kind this version does not know.
    public init?(feedKind: String, value: String) {
        switch feedKind {
        case "token": self = .token(jti: value)
        case "grant": self = .grant(id: GrantID(rawValue: value))
        case "client": self = .client(ClientID(rawValue: value))
        case "person": self = .person(id: SubjectID(rawValue: value))
        case "client_changed": self = .clientChanged(ClientID(rawValue: value))
        case "consent":
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            self = .consent(ClientID(rawValue: String(parts[0])), personID: SubjectID(rawValue: String(parts[1])))
        default: return nil
        }
    }

    /// The app whose cached registration must be dropped when this arrives.
    public var changedClient: ClientID? {
        switch self {
        case .client(let client), .clientChanged(let client): client
        default: nil
        }
    }
}

/// Codes: issued with their grant, redeemed once (a conditional update decides the one winner).
public protocol AuthorizationCodeStore: Sendable {
    /// Stores the code and opens its grant.
    func issue(_ code: IssuedCode) async throws
    /// The code with this hash, used or not.
    func find(codeHash: String) async throws -> IssuedCode?
    /// Marks the code used and stores the grant's first refresh token, in one transaction;
    /// `false` when another request used it first or its grant was revoked meanwhile.
    func redeem(codeHash: String, at: Date, firstRefreshToken: StoredRefreshToken?) async throws -> Bool
}

/// Refresh tokens: rotated on every use (RFC 9700 §4.14.2).
public protocol RefreshTokenStore: Sendable {
    /// The refresh token with this hash, rotated or not.
    func find(tokenHash: String) async throws -> StoredRefreshToken?
    /// Marks `tokenHash` rotated and stores its successor in one transaction; `false` when it was
    /// already rotated, has expired or its grant is revoked.
    func rotate(tokenHash: String, at: Date, successor: StoredRefreshToken) async throws -> Bool
}

/// Grants and the revocation feed.
public protocol GrantStore: Sendable {
    /// `true` when the grant exists and is not revoked.
    func isActive(grantID: GrantID) async throws -> Bool
    /// Revokes a grant: its refresh tokens stop at once, its access tokens via the feed.
    func revoke(grantID: GrantID, at: Date, feedExpiry: Date) async throws
    /// Appends to the revocation feed.
    func record(_ revocation: Revocation, at: Date, feedExpiry: Date) async throws
    /// Feed entries after `id`, oldest first (expired ones left out).
    func revocations(after id: Int, now: Date) async throws -> [RevocationEntry]
}

/// Everything the authorization server keeps: codes, refresh tokens, grants with the revocation
/// feed, and consents (one store in the database, four narrow ports to its users).
public typealias AuthorizationStore = AuthorizationCodeStore & RefreshTokenStore & GrantStore & ConsentStore

/// Consents per person and app.
public protocol ConsentStore: Sendable {
    func find(personID: SubjectID, clientID: ClientID) async throws -> Consent?
    /// Adds `scopes` to what the person already allowed the app.
    func allow(personID: SubjectID, clientID: ClientID, scopes: [String], at: Date) async throws
    /// Every app the person allowed, newest change first.
    func list(personID: SubjectID) async throws -> [Consent]
    /// Withdraws consent: the consent and every grant of that person for that app end, and the
    /// feed learns it; `false` when there was none.
    func withdraw(personID: SubjectID, clientID: ClientID, at: Date, feedExpiry: Date) async throws -> Bool
}

/// A signing key as stored: the private part sealed with the server's secret key.
public struct StoredSigningKey: Sendable, Equatable {
    public var keyID: String
    public var algorithm: JWSAlgorithm
    public var sealedPrivateKey: Data
    public var createdAt: Date
    /// When it stopped signing (a newer key took over).
    public var retiredAt: Date?
    /// Until when its public key stays in the JWKS (every token it signed has expired by then).
    public var publishUntil: Date?

    public init(keyID: String, algorithm: JWSAlgorithm, sealedPrivateKey: Data, createdAt: Date, retiredAt: Date? = nil, publishUntil: Date? = nil) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.sealedPrivateKey = sealedPrivateKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        self.publishUntil = publishUntil
    }
}

/// Signing keys in the database, shared by every process.
public protocol SigningKeyStore: Sendable {
    /// Every key whose public part is still published.
    func published(at: Date) async throws -> [StoredSigningKey]
    /// Adds `key` and retires the current key of the same algorithm, keeping it published until `publishUntil`.
    func rotate(to key: StoredSigningKey, publishOldUntil: Date) async throws
    /// Adds `keys` (one per algorithm) only while no key signs at all, all or none, atomically across
    /// processes: of processes starting together one set is kept, never keys of two different
    /// secret keys. `false` when keys were there.
    func createFirst(_ keys: [StoredSigningKey]) async throws -> Bool
    /// Replaces the sealed private parts of these keys (by key id), all in one transaction.
    func reseal(_ sealed: [String: Data]) async throws
}

/// A person's developer token for an app (SPEC §7), as stored: its grant, never the token.
public struct DeveloperToken: Sendable, Equatable {
    public var grantID: GrantID
    public var clientID: ClientID
    public var personID: SubjectID
    public var scopes: [String]
    /// When the person signed in to the session that asked for it (OIDC `auth_time`).
    public var authTime: Date
    public var createdAt: Date
    public var expiresAt: Date

    public init(grantID: GrantID, clientID: ClientID, personID: SubjectID, scopes: [String], authTime: Date, createdAt: Date, expiresAt: Date) {
        self.grantID = grantID
        self.clientID = clientID
        self.personID = personID
        self.scopes = scopes
        self.authTime = authTime
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Developer tokens: one per person and app; a new one ends the one before.
public protocol DeveloperTokenStore: Sendable {
    /// Opens `token`'s grant and makes it the person's developer token for the app; the grant of the
    /// one before is revoked with its feed entry, in the same transaction. Answers that grant.
    func open(_ token: DeveloperToken, feedExpiry: Date) async throws -> GrantID?
    /// The person's developer token for the app while it is neither revoked nor expired.
    func current(clientID: ClientID, personID: SubjectID, now: Date) async throws -> DeveloperToken?
    /// Revokes the grant when it is a developer token's (with its feed entry); `false` otherwise.
    func revokeDeveloperToken(grantID: GrantID, at: Date, feedExpiry: Date) async throws -> Bool
    /// Revokes the person's current developer token for the app (only when it is `grantID`, if given),
    /// in one transaction; answers its grant, `nil` when there was none.
    func revokeCurrent(clientID: ClientID, personID: SubjectID, grantID: GrantID?, at: Date, feedExpiry: Date) async throws -> GrantID?
}
