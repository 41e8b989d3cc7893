/// Whether a scope reads, writes, or is OpenID's.
public enum ScopeType: String, Sendable, Codable {
    /// Looks without changing.
    case read
    /// Looks and changes; implies the read scope of its group.
    case write
    /// OpenID Connect's `openid` (OIDC Core §3.1.2.1).
    case openid
}

/// One access scope of the portal API (SPEC §2).
public struct Scope: Sendable, Equatable, Codable {
    /// The wire name, e.g. `files:read`.
    public let name: String
    /// Read, write or openid.
    public let type: ScopeType
    /// The group it belongs to: profiles, accounts, files, rooms, openid.
    public let group: String
    /// What the person is asked to allow, as the consent screen shows it.
    public let description: String
}

/// The nine scopes an app may ask for, in the order the forms and the consent screen list them.
public enum ScopeCatalog {
    /// Every scope.
    public static let all: [Scope] = [
        Scope(name: "accounts.self:read", type: .read, group: "profiles", description: "View basic information about your profile"),
        Scope(name: "accounts.self:write", type: .write, group: "profiles", description: "View and manage basic information about your profile"),
        Scope(name: "accounts:read", type: .read, group: "accounts", description: "View all accounts"),
        Scope(name: "accounts:write", type: .write, group: "accounts", description: "View and manage all accounts"),
        Scope(name: "files:read", type: .read, group: "files", description: "View all files and folders"),
        Scope(name: "files:write", type: .write, group: "files", description: "View and manage all files and folders"),
        Scope(name: "rooms:read", type: .read, group: "rooms", description: "View all rooms"),
        Scope(name: "rooms:write", type: .write, group: "rooms", description: "View and manage all rooms"),
        Scope(name: "openid", type: .openid, group: "openid", description: "View your personal data"),
    ]

    /// The scope called `name`, if the catalog has it.
    public static func scope(named name: String) -> Scope? { all.first { $0.name == name } }

    /// The read scope that a write scope implies (`files:write` → `files:read`).
    public static func impliedRead(of scope: Scope) -> Scope? {
        guard scope.type == .write else { return nil }
        return all.first { $0.group == scope.group && $0.type == .read }
    }
}

/// A set of catalog scopes, normalized: write adds its read, no duplicates, catalog order.
public struct ScopeSet: Sendable, Equatable {
    /// The names, in catalog order.
    public let names: [String]

    /// Normalizes `requested`; answers the names that are not in the catalog as the failure.
    public static func normalize(_ requested: [String]) -> Result<ScopeSet, UnknownScopes> {
        var chosen = Set<String>()
        var unknown: [String] = []
        for name in requested {
            guard let scope = ScopeCatalog.scope(named: name) else {
                if !unknown.contains(name) { unknown.append(name) }
                continue
            }
            chosen.insert(scope.name)
            if let read = ScopeCatalog.impliedRead(of: scope) { chosen.insert(read.name) }
        }
        guard unknown.isEmpty else { return .failure(UnknownScopes(names: unknown)) }
        return .success(ScopeSet(names: ScopeCatalog.all.map(\.name).filter(chosen.contains)))
    }

    /// What remains of scopes granted to an app once its registration holds only `registered`: a
    /// consent or grant never keeps a scope the app no longer has (issue 13, finding 6).
    public static func retained(_ granted: [String], registered: [String]) -> [String] {
        let still = Set(registered)
        return granted.filter(still.contains)
    }

    /// `true` when every scope of `other` is here.
    public func contains(_ other: ScopeSet) -> Bool { Set(other.names).isSubset(of: Set(names)) }

    /// RFC 6749 §3.3: space-delimited.
    public var spaceDelimited: String { names.joined(separator: " ") }
}

/// Scope names that are not in the catalog.
public struct UnknownScopes: Error, Equatable, Sendable {
    /// The names as requested.
    public let names: [String]
    /// Unknown scopes with these names.
    public init(names: [String]) { self.names = names }
}
