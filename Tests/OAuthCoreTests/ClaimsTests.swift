import Foundation
import OAuthCore
import Testing

@Suite struct ClaimsTests {
    static func claims(scope: String) throws -> AccessTokenClaims {
        let json: [String: Any] = ["iss": "https://id.example", "sub": "p1", "aud": "https://id.example/api", "exp": 2, "iat": 1,
                                   "nbf": 1, "jti": "j", "client_id": "c", "cid": "c", "scope": scope, "gid": "g", "auth_time": 1]
        return try JSONDecoder().decode(AccessTokenClaims.self, from: JSONSerialization.data(withJSONObject: json))
    }

    /// RFC 6749 §3.3: scopes are space-delimited and case-sensitive; a prefix is not a scope.
    @Test(arguments: [
        ("files:read accounts.self:read", ["files:write", "files:read"], true),
        ("files:read", ["files:write"], false),
        ("files:readx files", ["files:read"], false),
        ("Files:read", ["files:read"], false),
        ("", ["files:read"], false),
        ("  openid   rooms:read ", ["rooms:read"], true),
        ("openid", [], false),
    ])
    func grantsAny(scope: String, wanted: [String], expected: Bool) throws {
        let claims = try Self.claims(scope: scope)
        #expect(claims.grantsAny(of: wanted) == expected)
        #expect(claims.grantsAny(of: wanted) == !Set(wanted).isDisjoint(with: claims.scopes))
    }
}
