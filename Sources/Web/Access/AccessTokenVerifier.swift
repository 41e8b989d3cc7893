import Foundation
import HTTPParsing
import OAuthCore
import Synchronization

/// Checks a JWT access token the way every resource does (RFC 9068 §4): signature by a published
/// key, `typ` `at+jwt`, `iss`, `aud`, `exp` and `nbf` with at most 60 s of skew, then revocation.
public struct AccessTokenVerifier: Sendable {
    let keys: KeyRing
    let revocations: RevocationSet
    let issuer: String
    /// The audiences a token may have to be taken here: the issuer (a token asked for without
    /// `resource`) and the portal API's resource (RFC 8707; SPEC §6). The portal API, userinfo and
    /// introspection share this list while they accept the same audiences; a resource with audiences
    /// of its own (the MCP server of SPEC §6) needs a verifier of its own, or the API would take its tokens.
    let audiences: [String]
    let clock: any TimeSource
    let verified = VerifiedTokens()
    static let skew: Int64 = 60

    public init(keys: KeyRing, revocations: RevocationSet, issuer: URL, clock: any TimeSource) {
        self.init(keys: keys, revocations: revocations, issuer: issuer.absoluteString,
                  audiences: [issuer.absoluteString, ProtectedResource.portalAPI(publicURL: issuer).resource], clock: clock)
    }

    private init(keys: KeyRing, revocations: RevocationSet, issuer: String, audiences: [String], clock: any TimeSource) {
        self.keys = keys
        self.revocations = revocations
        self.issuer = issuer
        self.audiences = audiences
        self.clock = clock
    }

    /// The same checks, also taking tokens issued for `resource` (userinfo and introspection answer for
    /// every audience of the portal, SPEC §6).
    func alsoTaking(_ resource: ProtectedResource) -> AccessTokenVerifier {
        AccessTokenVerifier(keys: keys, revocations: revocations, issuer: issuer, audiences: audiences + [resource.resource], clock: clock)
    }

    /// The same checks for a resource that takes only tokens issued for it (RFC 8707): the MCP server.
    func only(for resource: ProtectedResource) -> AccessTokenVerifier {
        AccessTokenVerifier(keys: keys, revocations: revocations, issuer: issuer, audiences: [resource.resource], clock: clock)
    }

    /// The claims of a valid, unrevoked access token; `nil` otherwise.
    public func verify(_ token: String) -> AccessTokenClaims? {
        let claims: AccessTokenClaims
        if let known = verified.claims(of: token, keys: keys) {
            claims = known
        } else {
            guard let (checked, header) = JWT.verify(token, as: AccessTokenClaims.self, keys: keys.verificationKeys, expectedType: "at+jwt")
            else { return nil }
            claims = checked
            verified.remember(token, claims: checked, keyID: header.kid ?? "")
        }
        let now = clock.now.unixSeconds
        guard claims.iss == issuer, claims.aud.containsAny(of: audiences), claims.exp > now - Self.skew, claims.nbf <= now + Self.skew,
              !revocations.isRevoked(claims)
        else { return nil }
        return claims
    }

    /// The bearer token of an `Authorization` header (RFC 6750 §2.1).
    static func bearer(_ header: String?) -> String? { bearerCredentials(header).map(String.init) }

    /// The same, still inside the header: for a caller that copies it out only when it wants it.
    static func bearerCredentials(_ header: String?) -> Substring? {
        guard let header, let token = AuthorizationHeader.credentials(header, scheme: "Bearer"), !token.isEmpty else { return nil }
        return token
    }
}

/// Tokens whose signature was already checked, so an app that calls the API many times with one
/// token pays for the ECDSA verification once. Only the signature and the decoding are remembered:
/// expiry, issuer, audience and revocation are checked on every use, and an entry is used only while
/// the key that signed it is still published.
final class VerifiedTokens: Sendable {
    private let entries = Mutex<[String: (claims: AccessTokenClaims, keyID: String)]>([:])
    private let capacity: Int

    init(capacity: Int = 20_000) { self.capacity = capacity }

    func claims(of token: String, keys: KeyRing) -> AccessTokenClaims? {
        guard let entry = entries.withLock({ $0[token] }), keys.publishes(keyID: entry.keyID) else { return nil }
        return entry.claims
    }

    func remember(_ token: String, claims: AccessTokenClaims, keyID: String) {
        entries.withLock { entries in
            // Past capacity the whole set is dropped: simple, bounded, and refilled by live tokens at once.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = (claims, keyID)
        }
    }
}
