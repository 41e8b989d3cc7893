import Crypto
import Foundation

/// RFC 9068 §2.2 claims of a JWT access token (plus `cid` and `gid`, the grant it belongs to).
public struct AccessTokenClaims: Codable, Sendable, Equatable {
    public var iss: String
    public var sub: String
    /// The resources the token is for (RFC 8707), or the issuer when none was asked for.
    public var aud: Audience
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
