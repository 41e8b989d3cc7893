/// SPEC §4: which scope an OAuth access token needs for a portal API route. A portal token (from
/// `/api/2.0/authentication`) is not limited by scopes; an OAuth token reaches only what is mapped.
public enum ScopeMap {
    /// What a request needs.
    public enum Requirement: Equatable, Sendable {
        /// One of these scopes.
        case anyOf([String])
        /// Not reachable with an OAuth token at all.
        case unreachable
    }

    /// The requirement for `method` on `path` (a path under `/api/2.0/`).
    public static func requirement(method: String, path: String) -> Requirement {
        let reading = method == "GET" || method == "HEAD"
        func scopes(_ group: String) -> Requirement {
            reading ? .anyOf([group + ":read", group + ":write"]) : .anyOf([group + ":write"])
        }
        let trimmed = path.utf8.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if trimmed == "/api/2.0/people/@self" { return scopes("accounts.self") }
        if trimmed == "/api/2.0/people" || trimmed.hasPrefix("/api/2.0/people/") { return scopes("accounts") }
        if trimmed == "/api/2.0/files/rooms" || trimmed.hasPrefix("/api/2.0/files/rooms/") { return scopes("rooms") }
        if trimmed == "/api/2.0/files" || trimmed.hasPrefix("/api/2.0/files/") { return scopes("files") }
        return .unreachable
    }
}
