import Foundation

/// RFC 8707 resource indicators: the resources this server issues tokens for, and the rules that
/// bind a grant and its tokens to them (SPEC §6). A token asked for without `resource` is for the
/// issuer, as before resource indicators; with them, its `aud` is exactly the resources granted,
/// never with the issuer added.
public struct ResourceIndicators: Sendable, Equatable {
    /// The issuer: the audience of a token asked for without `resource`.
    public let issuer: String
    /// The resources a client may name, as exact strings (e.g. `<public URL>/api/2.0`).
    public let known: [String]

    public init(issuer: String, known: [String]) {
        self.issuer = issuer
        self.known = known
    }

    /// RFC 8707 §2: every resource named at authorize must be one of `known`, exactly; each kept
    /// once, in the order sent. An unknown one is `invalid_target`.
    public func granted(_ requested: [String]) -> Result<[String], OAuthError> {
        var chosen: [String] = []
        for resource in requested where !chosen.contains(resource) {
            guard known.contains(resource) else {
                return .failure(Self.invalidTarget("\(resource) is not a resource of this server."))
            }
            chosen.append(resource)
        }
        return .success(chosen)
    }

    /// RFC 8707 §2.2: the audience of a token issued from a grant. Resources named at the token
    /// endpoint must all be among those granted (the issuer alone when none were named at
    /// authorize); none named means all of them.
    public func audience(requested: [String], granted: [String]) -> Result<[String], OAuthError> {
        let available = granted.isEmpty ? [issuer] : granted
        var chosen: [String] = []
        for resource in requested where !chosen.contains(resource) {
            guard available.contains(resource) else {
                return .failure(Self.invalidTarget("\(resource) was not granted to this app for this grant."))
            }
            chosen.append(resource)
        }
        return .success(chosen.isEmpty ? available : chosen)
    }

    static func invalidTarget(_ description: String) -> OAuthError { OAuthError("invalid_target", description) }
}

/// A JWT's `aud` (RFC 7519 §4.1.3): one string, or an array when the token is for several.
public struct Audience: Codable, Sendable, Equatable, ExpressibleByStringLiteral {
    public let values: [String]

    public init(_ values: [String]) { self.values = values }
    public init(stringLiteral value: String) { self.values = [value] }

    /// Whether the token is for `resource` (or any of `resources`).
    public func contains(_ resource: String) -> Bool { values.contains(resource) }
    public func containsAny(of resources: [String]) -> Bool { values.contains(where: resources.contains) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            values = [one]
        } else {
            values = try container.decode([String].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if values.count == 1 { try container.encode(values[0]) } else { try container.encode(values) }
    }
}
