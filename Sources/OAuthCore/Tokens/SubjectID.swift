/// The person a grant, code, token or consent belongs to, as the authorization server names them:
/// the `sub` claim (OIDC Core §2). The portal calls the same value a `PersonID`; Web converts between
/// them at its edge, so no store or rule passes a bare string around.
public struct SubjectID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// One authorization grant: the code, every refresh token rotated from it and the access tokens they
/// issued (the `gid` claim). Revoking it ends them all.
public struct GrantID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// A new random grant id (128 bits).
    public static func generate() -> GrantID { GrantID(rawValue: OpaqueToken.generate(byteCount: 16)) }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
