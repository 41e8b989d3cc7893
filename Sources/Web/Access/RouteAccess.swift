import Hummingbird

/// Who may call a route, declared where the route is registered (`Routes.on`) and checked by
/// `Routes` for the route the router actually matched — never by looking at the request's path.
enum RouteAccess: Sendable, Equatable {
    /// Anyone. Either nothing is protected (discovery, keys, health, icons) or the endpoint
    /// authenticates by its own standard: client authentication at token, introspection and
    /// revocation (RFC 6749 §2.3), the bearer at userinfo (OIDC Core §5.3).
    case anyone
    /// The token endpoint: anyone, authenticating the client by its own standard; the browser
    /// session cookie is read on demand (`context.browserSession`) for the `personal_access_token`
    /// grant that acts for the signed-in person (SPEC §7), and for no other grant.
    case tokenEndpoint
    /// A page for a browser: the session cookie is read when present (`context.caller` is then a
    /// `.browser` caller); the page decides what a visitor without one sees.
    case page
    /// A page form that changes what the clients API changes, spending the same per-person budget.
    case pageSpending(RateBudget)
    /// An API route for a person: a browser session, a portal token, or — when `oauth` is set —
    /// an OAuth access token or API key holding that scope. `budget` is the per-person rate budget it spends.
    case api(oauth: ScopeRequirement?, budget: RateBudget? = nil)
    /// The API keys routes (SPEC §7), in DocSpace's envelope: a person's session or portal token; no
    /// OAuth token; an API key only where `anyKey` (`GET /api/2.0/keys/@self`, the key itself).
    case apiKeys(anyKey: Bool)
    /// The metrics (SPEC §5): only a bearer of `GATEHOUSE_METRICS_TOKEN` or a trusted address.
    case operatorOnly
    /// The MCP server (SPEC §6): only an OAuth access token issued for it (RFC 8707 audience `<public>/mcp`);
    /// each tool's scope is the one its API route needs, decided from the call before it is dispatched.
    case mcp

    /// Whether OAuth access tokens may call it (then browsers get CORS preflights for it).
    var takesAccessTokens: Bool {
        if case .api(.some, _) = self { return true }
        return false
    }

    /// Whether errors answer in DocSpace's envelope (the portal API that scopes protect, SPEC §4).
    var answersInEnvelope: Bool {
        switch self {
        case .api(.some, _), .apiKeys: return true
        default: return false
        }
    }
}

/// The scope an OAuth access token needs for a route (SPEC §4): a read needs the group's read or
/// write scope, a change needs its write scope.
struct ScopeRequirement: Sendable, Equatable {
    /// The scope group, such as `files` or `accounts.self`.
    let group: String
    /// Whether the route changes anything.
    let writes: Bool

    /// `group:read` or `group:write` will do.
    static func read(_ group: String) -> ScopeRequirement { ScopeRequirement(group: group, writes: false) }
    /// Only `group:write` will do.
    static func write(_ group: String) -> ScopeRequirement { ScopeRequirement(group: group, writes: true) }

    /// The scopes any one of which satisfies this requirement.
    var acceptedScopes: [String] { writes ? [group + ":write"] : [group + ":read", group + ":write"] }
}

/// A per-person request budget (the clients API's DocSpace limits).
enum RateBudget: String, Sendable, Equatable {
    case clientsPost = "post"
    case clientsChange = "change"
    case clientsRead = "read"

    func limit(in limits: ClientsAPILimits) -> Int {
        switch self {
        case .clientsPost: limits.posts
        case .clientsChange: limits.changes
        case .clientsRead: limits.reads
        }
    }
}

/// One registered route and who may call it: what `Routes` keeps for the test that walks every route.
struct RouteDeclaration: Sendable {
    let path: String
    let method: HTTPRequest.Method
    let access: RouteAccess
}
