import Foundation
import HTTPTypes
import Hummingbird
import OAuthCore
import PortalCore

/// The route table. Each route is registered with who may call it (`RouteAccess`); the gate checks
/// that declaration for the route the router matched, so what is authorized is what runs, however
/// the path was written. It also remembers which methods each path has, so that any other method on
/// a known path answers 405 with `Allow` (RFC 9110 §15.5.6) rather than 404.
public final class Routes {
    typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    let router: Router<AppRequestContext>
    let gate: RouteGate
    /// The portal's public URL, under which every route of the table is reached.
    let publicURL: URL
    private var methods: [String: Set<HTTPRequest.Method>] = [:]
    private var order: [String] = []
    /// Every route with its declaration, in the order registered.
    private(set) var declarations: [RouteDeclaration] = []
    /// The 405 answers and preflights `finish` adds, which run no handler of ours.
    private var generated: Set<String> = []

    init(router: Router<AppRequestContext>, gate: RouteGate, publicURL: URL) {
        self.router = router
        self.gate = gate
        self.publicURL = publicURL
    }

    /// The route table of `router`, whose gate authenticates with these services.
    public convenience init(
        router: Router<AppRequestContext>, signIn: SignInService, verifier: AccessTokenVerifier, people: any PersonStore,
        apiKeys: any APIKeyStore, pages: Pages,
        cors: OAuthCORS, clients: any ClientLookup, limiter: RateLimiter, clientsAPILimits: ClientsAPILimits, clock: any TimeSource,
        publicURL: URL, metricsAccess: MetricsAccess
    ) {
        self.init(router: router, gate: RouteGate(
            authentication: CallerAuthentication(cookieName: pages.csrf.cookies.session, signIn: signIn, verifier: verifier, people: people,
                                                 apiKeys: apiKeys, keyUses: APIKeyUses(), clock: clock),
            cors: cors, clients: clients, limiter: limiter, limits: clientsAPILimits, clock: clock, publicOrigin: origin(of: publicURL),
            metricsAccess: metricsAccess, portalAPI: .portalAPI(publicURL: publicURL), mcp: .mcp(publicURL: publicURL),
            mcpVerifier: verifier.only(for: .mcp(publicURL: publicURL))
        ), publicURL: publicURL)
    }

    /// The name of the browser session cookie the table's gate reads (`__Host-` on https).
    var sessionCookieName: String { gate.authentication.cookieName }

    /// A feature's part of the table: a Hummingbird `RouterGroup` under `prefix`, whose routes are
    /// declared and checked like every other.
    public func group(_ prefix: String) -> RouteGroup {
        RouteGroup(table: self, prefix: prefix, group: router.group(RouterPath(prefix)))
    }

    /// Registers `relativePath` on `target` (the router or a group) as the route `path`.
    func register(_ path: String, _ method: HTTPRequest.Method, _ access: RouteAccess, on target: any RouterMethods<AppRequestContext>,
                  relativePath: String, _ handler: @escaping Handler) {
        if methods[path] == nil { order.append(path) }
        methods[path, default: []].insert(method)
        declarations.append(RouteDeclaration(path: path, method: method, access: access))
        let gate = gate
        target.on(RouterPath(relativePath), method: method) { request, context in
            try await gate.pass(request, context: context, access: access, handler)
        }
    }

    func on(_ path: String, _ method: HTTPRequest.Method, _ access: RouteAccess, _ handler: @escaping Handler) {
        register(path, method, access, on: router, relativePath: path, handler)
    }

    func get(_ path: String, _ access: RouteAccess, _ handler: @escaping Handler) { on(path, .get, access, handler) }
    func post(_ path: String, _ access: RouteAccess, _ handler: @escaping Handler) { on(path, .post, access, handler) }

    /// Adds the 405 answers and the CORS preflights of routes that OAuth tokens may call; call once,
    /// after every route is registered. A route added to the router around this table, without a
    /// declaration of who may call it, stops the server from being built.
    public func finish() {
        defer {
            precondition(undeclared.isEmpty, "routes without a declaration of who may call them: \(undeclared)")
            Self.finished?(declarations)
        }
        let candidates: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        for path in order {
            guard let registered = methods[path] else { continue }
            var allowed = registered
            if allowed.contains(.get) { allowed.insert(.head) }
            let allowList = candidates.filter { allowed.contains($0) }.map(\.rawValue)
            let takesAccessTokens = declarations.contains { $0.path == path && $0.access.takesAccessTokens }
            for method in candidates where !allowed.contains(method) {
                if method == .options, takesAccessTokens {
                    // SPEC §3: a preflight is answered for an origin that any enabled app registered.
                    let cors = gate.cors
                    let methods = allowList.filter { $0 != "HEAD" }.joined(separator: ", ")
                    generated.insert(Self.key(.options, path))
                    router.on(RouterPath(path), method: .options) { request, _ in
                        guard request.headers[.accessControlRequestMethod] != nil else { throw AppError.methodNotAllowed(allowed: allowList) }
                        return try await cors.preflight(request, methods: methods)
                    }
                    continue
                }
                generated.insert(Self.key(method, path))
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw AppError.methodNotAllowed(allowed: allowList)
                }
            }
        }
    }

    /// The routes on the router that were added around `Routes`, so without a declaration of who may
    /// call them. `finish` refuses to build a router with any.
    var undeclared: [String] {
        Self.undeclared(on: router, known: Set(declarations.map { Self.key($0.method, $0.path) }).union(generated))
    }

    /// The routes on `router` that are not among `known` (as made by `key`).
    static func undeclared(on router: Router<AppRequestContext>, known: Set<String>) -> [String] {
        router.routes.map { "\($0.method) \($0.path)" }.filter { !known.contains($0) }
    }

    static func key(_ method: HTTPRequest.Method, _ path: String) -> String { "\(method) \(RouterPath(path))" }

    /// Handed every declaration of a table when its `finish()` runs in a task that set it: how a test
    /// sees the table that `buildApplication` made (the OpenAPI document must describe every route of it).
    @TaskLocal static var finished: (@Sendable ([RouteDeclaration]) -> Void)?
}

/// The origin of a URL (RFC 6454 §6.1) as browsers send it in `Origin`: scheme and host lowercased,
/// an IPv6 host in brackets, the port only when it is not the scheme's default.
func origin(of url: URL) -> String {
    var host = url.host ?? ""
    if host.contains(":"), !host.hasPrefix("[") { host = "[\(host)]" }
    var text = "\(url.scheme ?? "http")://\(host)"
    if let port = url.port { text += ":\(port)" }
    return (try? URLRules.normalizedOrigin(text).get()) ?? text
}

/// The routes of one feature under a path prefix, registered through a Hummingbird `RouterGroup`;
/// paths are relative to the prefix, and each route still declares who may call it.
public struct RouteGroup {
    let table: Routes
    let prefix: String
    let group: RouterGroup<AppRequestContext>

    func on(_ path: String, _ method: HTTPRequest.Method, _ access: RouteAccess, _ handler: @escaping Routes.Handler) {
        table.register(prefix + path, method, access, on: group, relativePath: path, handler)
    }

    func get(_ path: String, _ access: RouteAccess, _ handler: @escaping Routes.Handler) { on(path, .get, access, handler) }
    func post(_ path: String, _ access: RouteAccess, _ handler: @escaping Routes.Handler) { on(path, .post, access, handler) }
    func put(_ path: String, _ access: RouteAccess, _ handler: @escaping Routes.Handler) { on(path, .put, access, handler) }
    func patch(_ path: String, _ access: RouteAccess, _ handler: @escaping Routes.Handler) { on(path, .patch, access, handler) }
    func delete(_ path: String, _ access: RouteAccess, _ handler: @escaping Routes.Handler) { on(path, .delete, access, handler) }
}
