import Crypto
import Foundation

/// RFC 9068 §2.2 claims of a JWT access token (plus `cid` and `gid`, the grant it belongs to).
public struct AccessTokenClaims: Codable, Sendable, Equatable {
    public var iss: String
    public var sub: String
    public var aud: String
    public var exp: Int64
    public var iat: Int64
    public var nbf: Int64
    public var jti: String
    public var client_id: String
    public var cid: String
    public var scope: String
    public var gid: String
    public var auth_time: Int64

    /// The scopes as a list.
    public var scopes: [String] { scope.split(separator: " ").map(String.init) }

    /// `true` when the token holds at least one of `wanted` (RFC 6749 §3.3: space-delimited,
    /// case-sensitive), read from `scope` in place.
    public func grantsAny(of wanted: [String]) -> Bool {
        var rest = scope.utf8[...]
        while !rest.isEmpty {
            let end = rest.firstIndex(of: UInt8(ascii: " ")) ?? rest.endIndex
            let part = rest[rest.startIndex..<end]
            if !part.isEmpty, wanted.contains(where: { $0.utf8.elementsEqual(part) }) { return true }
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
        }
        return false
    }
}

/// OpenID Connect Core §2 ID token claims, with the standard profile claims of §5.1.
public struct IDTokenClaims: Codable, Sendable, Equatable {
    public var iss: String
    public var sub: String
    public var aud: String
    public var exp: Int64
    public var iat: Int64
    public var auth_time: Int64
    public var nonce: String?
    public var at_hash: String?
    public var azp: String
    public var name: String
    public var given_name: String
    public var family_name: String
    public var email: String
    public var email_verified: Bool
}

/// The person claims that `openid` unlocks (ID token and `/oauth2/userinfo`).
public struct PersonClaims: Sendable, Equatable, Codable {
    public var sub: String
    public var name: String
    public var given_name: String
    public var family_name: String
    public var email: String
    public var email_verified: Bool

    public init(sub: String, name: String, givenName: String, familyName: String, email: String) {
        self.sub = sub
        self.name = name
        self.given_name = givenName
        self.family_name = familyName
        self.email = email
        self.email_verified = true
    }
}

/// Signs the tokens of a grant.
public struct TokenIssuer: Sendable {
    public let issuer: String
    public let accessTokenLifetime: TimeInterval

    public init(issuer: String, accessTokenLifetime: TimeInterval) {
        self.issuer = issuer
        self.accessTokenLifetime = accessTokenLifetime
    }

    /// What a grant needs to mint tokens.
    public struct Subject: Sendable {
        public var clientID: ClientID
        public var personID: String
        public var grantID: String
        public var scopes: [String]
        public var authTime: Date
        public var nonce: String?

        public init(clientID: ClientID, personID: String, grantID: String, scopes: [String], authTime: Date, nonce: String?) {
            self.clientID = clientID
            self.personID = personID
            self.grantID = grantID
            self.scopes = scopes
            self.authTime = authTime
            self.nonce = nonce
        }
    }

    /// An RFC 9068 access token (`typ` `at+jwt`).
    public func accessToken(for subject: Subject, now: Date, key: SigningKey) throws -> (token: String, claims: AccessTokenClaims) {
        let iat = now.unixSeconds
        let claims = AccessTokenClaims(
            iss: issuer, sub: subject.personID, aud: issuer, exp: iat + Int64(accessTokenLifetime), iat: iat, nbf: iat,
            jti: OpaqueToken.generate(byteCount: 16), client_id: subject.clientID.rawValue, cid: subject.clientID.rawValue,
            scope: subject.scopes.joined(separator: " "), gid: subject.grantID, auth_time: subject.authTime.unixSeconds
        )
        return (try JWT.sign(claims, key: key, type: "at+jwt"), claims)
    }

    /// An ID token (OIDC Core §2) with `at_hash` (§3.1.3.6) for `accessToken`.
    public func idToken(for subject: Subject, person: PersonClaims, accessToken: String, now: Date, key: SigningKey) throws -> String {
        let iat = now.unixSeconds
        let claims = IDTokenClaims(
            iss: issuer, sub: subject.personID, aud: subject.clientID.rawValue, exp: iat + Int64(accessTokenLifetime),
            iat: iat, auth_time: subject.authTime.unixSeconds, nonce: subject.nonce, at_hash: Self.atHash(accessToken),
            azp: subject.clientID.rawValue, name: person.name, given_name: person.given_name,
            family_name: person.family_name, email: person.email, email_verified: person.email_verified
        )
        return try JWT.sign(claims, key: key, type: "JWT")
    }

    /// When every token issued at `now` has expired, with a minute of clock skew: how long the
    /// revocation feed remembers an entry and how long a retired key stays published.
    public static func everyTokenExpired(issuedAt now: Date, lifetime: TimeInterval) -> Date {
        now.addingTimeInterval(lifetime + 60)
    }

    /// OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the token's ASCII.
    public static func atHash(_ accessToken: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Data(accessToken.utf8))).prefix(16))
    }
}
