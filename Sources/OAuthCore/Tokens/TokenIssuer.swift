import Crypto
import Foundation

/// Signs the tokens of a grant.
public struct TokenIssuer: Sendable {
    public let issuer: String
    public let accessTokenLifetime: TimeInterval
    /// How long a developer token lives (SPEC §7, `GATEHOUSE_DEVELOPER_TOKEN_TTL`).
    public let developerTokenLifetime: TimeInterval

    public init(issuer: String, accessTokenLifetime: TimeInterval, developerTokenLifetime: TimeInterval? = nil) {
        self.issuer = issuer
        self.accessTokenLifetime = accessTokenLifetime
        self.developerTokenLifetime = developerTokenLifetime ?? accessTokenLifetime
    }

    /// The longest any access token lives: how long revocations and retired keys must be remembered.
    public var longestLifetime: TimeInterval { max(accessTokenLifetime, developerTokenLifetime) }

    /// When the revocation feed may forget an entry made at `now`: every token it can cover has expired.
    public func feedExpiry(at now: Date) -> Date { Self.everyTokenExpired(issuedAt: now, lifetime: longestLifetime) }

    /// What a grant needs to mint tokens.
    public struct Subject: Sendable {
        public var clientID: ClientID
        public var personID: SubjectID
        public var grantID: GrantID
        public var scopes: [String]
        public var authTime: Date
        public var nonce: String?
        /// The access token's audience (`ResourceIndicators.audience`); the issuer when empty.
        public var audience: [String]

        public init(clientID: ClientID, personID: SubjectID, grantID: GrantID, scopes: [String], authTime: Date, nonce: String?,
                    audience: [String] = []) {
            self.clientID = clientID
            self.personID = personID
            self.grantID = grantID
            self.scopes = scopes
            self.authTime = authTime
            self.nonce = nonce
            self.audience = audience
        }
    }

    /// An RFC 9068 access token (`typ` `at+jwt`), living `lifetime` (the access token lifetime when left out).
    public func accessToken(for subject: Subject, now: Date, key: SigningKey, lifetime: TimeInterval? = nil) throws
        -> (token: String, claims: AccessTokenClaims)
    {
        let accessTokenLifetime = lifetime ?? accessTokenLifetime
        let iat = now.unixSeconds
        let claims = AccessTokenClaims(
            iss: issuer, sub: subject.personID.rawValue, aud: Audience(subject.audience.isEmpty ? [issuer] : subject.audience),
            exp: iat + Int64(accessTokenLifetime), iat: iat, nbf: iat,
            jti: OpaqueToken.generate(byteCount: 16), client_id: subject.clientID.rawValue, cid: subject.clientID.rawValue,
            scope: subject.scopes.joined(separator: " "), gid: subject.grantID.rawValue, auth_time: subject.authTime.unixSeconds
        )
        return (try JWT.sign(claims, key: key, type: "at+jwt"), claims)
    }

    /// An ID token (OIDC Core §2) with `at_hash` (§3.1.3.6) for `accessToken`.
    public func idToken(for subject: Subject, person: PersonClaims, accessToken: String, now: Date, key: SigningKey) throws -> String {
        let iat = now.unixSeconds
        let claims = IDTokenClaims(
            iss: issuer, sub: subject.personID.rawValue, aud: subject.clientID.rawValue, exp: iat + Int64(accessTokenLifetime),
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
