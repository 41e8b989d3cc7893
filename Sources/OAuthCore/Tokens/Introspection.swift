import Foundation

/// RFC 7662 §2.2: what introspection tells the calling app about a token. Only the token's own app
/// learns anything; another app's token, an expired, rotated or revoked one, and anything unknown are
/// all `{"active": false}`, so an answer never tells one case from another.
public struct IntrospectionAnswer: Encodable, Sendable, Equatable {
    public var active: Bool
    public var scope: String?
    public var client_id: String?
    public var sub: String?
    public var exp: Int64?
    public var iat: Int64?
    public var nbf: Int64?
    public var iss: String?
    public var aud: Audience?
    public var jti: String?
    public var token_type: String?

    public static let inactive = IntrospectionAnswer(active: false)

    /// An access token whose signature, issuer, audience and revocation were checked (`verified`).
    public static func accessToken(_ verified: AccessTokenClaims, caller: ClientID, now: Date) -> IntrospectionAnswer {
        guard verified.client_id == caller.rawValue, verified.exp > now.unixSeconds else { return .inactive }
        return IntrospectionAnswer(
            active: true, scope: verified.scope, client_id: verified.client_id, sub: verified.sub, exp: verified.exp, iat: verified.iat,
            nbf: verified.nbf, iss: verified.iss, aud: verified.aud, jti: verified.jti, token_type: "Bearer"
        )
    }

    /// A refresh token as stored. Whether its grant is still active is asked (`grantActive`) only once
    /// every other condition holds, so another app's, a rotated or an expired token costs the same as
    /// an unknown one.
    public static func refreshToken(_ stored: StoredRefreshToken, caller: ClientID, issuer: String, now: Date,
                                    grantActive: () async throws -> Bool) async rethrows -> IntrospectionAnswer
    {
        guard stored.clientID == caller, stored.rotatedAt == nil, stored.expiresAt > now, try await grantActive() else { return .inactive }
        return IntrospectionAnswer(
            active: true, scope: stored.scopes.joined(separator: " "), client_id: stored.clientID.rawValue, sub: stored.personID.rawValue,
            exp: stored.expiresAt.unixSeconds, iat: stored.createdAt.unixSeconds, iss: issuer, token_type: "refresh_token"
        )
    }
}

/// RFC 7009 §2.1: what revoking a token ends. The app may revoke only its own tokens; for anything
/// else the answer is still 200 and nothing happens (§2.2), so nobody learns whether a token exists.
public enum TokenRevocation {
    /// An access token (signature checked; expiry and revocation need not be) ends itself.
    public static func of(accessToken claims: AccessTokenClaims, caller: ClientID) -> Revocation? {
        claims.client_id == caller.rawValue ? .token(jti: claims.jti) : nil
    }

    /// A refresh token ends its whole grant (RFC 7009 §2.1: "SHOULD also invalidate all access tokens
    /// based on the same authorization grant").
    public static func of(refreshToken stored: StoredRefreshToken, caller: ClientID) -> Revocation? {
        stored.clientID == caller ? .grant(id: stored.grantID) : nil
    }
}
