import Foundation
import OAuthCore

/// Checks a JWT access token the way every resource does (RFC 9068 §4): signature by a published
/// key, `typ` `at+jwt`, `iss`, `aud`, `exp` and `nbf` with at most 60 s of skew, then revocation.
public struct AccessTokenVerifier: Sendable {
    let keys: KeyRing
    let revocations: RevocationSet
    let issuer: String
    let clock: any TimeSource
    static let skew: Int64 = 60

    /// The claims of a valid, unrevoked access token; `nil` otherwise.
    public func verify(_ token: String) -> AccessTokenClaims? {
        guard let (claims, _) = JWT.verify(token, as: AccessTokenClaims.self, keys: keys.verificationKeys, expectedType: "at+jwt")
        else { return nil }
        let now = clock.now.unixSeconds
        guard claims.iss == issuer, claims.aud == issuer, claims.exp > now - Self.skew, claims.nbf <= now + Self.skew,
              !revocations.isRevoked(claims)
        else { return nil }
        return claims
    }

    /// The bearer token of an `Authorization` header.
    static func bearer(_ header: String?) -> String? {
        guard let header, header.count > 7, header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }
}
