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
    private var methods: [String: Set<HTTPRequest.Method>] = [:]
    private var order: [String] = []
    /// Every route with its declaration, in the order registered.
    private(set) var declarations: [RouteDeclaration] = []
    /// The 405 answers and preflights `finish` adds, which run no handler of ours.
    private var generated: Set<String> = []

    init(router: Router<AppRequestContext>, gate: RouteGate) {
        self.router = router
        self.gate = gate
    }

    /// The route table of `router`, whose gate authenticates with these services.
    public convenience init(
        router: Router<AppRequestContext>, signIn: SignInService, verifier: AccessTokenVerifier, people: any PersonStore, pages: Pages,
        cors: OAuthCORS, clients: any ClientLookup, limiter: RateLimiter, clientsAPILimits: ClientsAPILimits, clock: any TimeSource,
        publicURL: URL, metricsAccess: MetricsAccess
    ) {
        self.init(router: router, gate: RouteGate(
            authentication: CallerAuthentication(cookieName: pages.csrf.cookies.session, signIn: signIn, verifier: verifier, people: people),
            cors: cors, clients: clients, limiter: limiter, limits: clientsAPILimits, clock: clock, publicOrigin: origin(of: publicURL),
            metricsAccess: metricsAccess
        ))
    }

    func on(_ path: String, _ method: HTTPRequest.Method, _ access: RouteAccess, _ handler: @escaping Handler) {
        if methods[path] == nil { order.append(path) }
        methods[path, default: []].insert(method)
        declarations.append(RouteDeclaration(path: path, method: method, access: access))
        let gate = gate
        router.on(RouterPath(path), method: method) { request, context in
            try await gate.pass(request, context: context, access: access, handler)
        }
    }

    func get(_ path: String, _ access: RouteAccess, _ handler: @escaping Handler) { on(path, .get, access, handler) }
    func post(_ path: String, _ access: RouteAccess, _ handler: @escaping Handler) { on(path, .post, access, handler) }
    func put(_ path: String, _ access: RouteAccess, _ handler: @escaping Handler) { on(path, .put, access, handler) }
    func patch(_ path: String, _ access: RouteAccess, _ handler: @escaping Handler) { on(path, .patch, access, handler) }
    func delete(_ path: String, _ access: RouteAccess, _ handler: @escaping Handler) { on(path, .delete, access, handler) }

    /// Adds the 405 answers and the CORS preflights of routes that OAuth tokens may call; call once,
    /// after every route is registered. A route added to the router around this table, without a
    /// declaration of who may call it, stops the server from being built.
    public func finish() {
        defer { precondition(undeclared.isEmpty, "routes without a declaration of who may call them: \(undeclared)") }
        let candidates: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        for path in order {
            guard let registered = methods[path] else { continue }
            var allowed = registered
            if allowed.contains(.get) { allowed.insert(.head) }
            let allowList = candidates.filter { allowed.contains($0) }.map(\.rawValue)
            let takesAccessTokens = declarations.contains { $0.path == path && $0.access.answersInEnvelope }
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
}

/// Checks a route's declaration before its handler runs: establishes the caller once, holds an
/// OAuth token to the route's scope (SPEC §4, RFC 6750 §3.1), spends the route's budget, asks a
/// browser's cookie-borne change for proof that it came from the portal's own pages, and answers
/// CORS for the calling app.
struct RouteGate: Sendable {
    let authentication: CallerAuthentication
    let cors: OAuthCORS
    let clients: any ClientLookup
    let limiter: RateLimiter
    let limits: ClientsAPILimits
    let clock: any TimeSource
    let publicOrigin: String
    let metricsAccess: MetricsAccess

    func pass(_ request: Request, context: AppRequestContext, access: RouteAccess, _ handler: Routes.Handler) async throws -> Response {
        var context = context
        switch access {
        case .anyone:
            return try await handler(request, context)
        case .page:
            if let signedIn = try await authentication.browserSession(request) { context.caller = .browser(signedIn) }
            return try await handler(request, context)
        case .operatorOnly:
            guard metricsAccess.allows(request, context: context) else {
                throw AppError.forbidden("Metrics are for the operator: send the metrics token as a bearer, or call from a trusted address.")
            }
            return try await handler(request, context)
        case .api(let scope, let budget):
            return try await api(request, context: context, scope: scope, budget: budget, handler)
        }
    }

    private func api(_ request: Request, context: AppRequestContext, scope: ScopeRequirement?, budget: RateBudget?,
                     _ handler: Routes.Handler) async throws -> Response {
        var context = context
        let envelope = scope != nil
        switch try await authentication.authenticate(request, acceptingBearer: true) {
        case .nobody:
            break
        case .invalidAccessToken:
            return Self.refuse(request, context: context, envelope: envelope, status: .unauthorized,
                               message: "The access token is invalid, expired or revoked.", error: "invalid_token",
                               challenge: "Bearer realm=\"gatehouse\", error=\"invalid_token\"")
        case .caller(let caller):
            context.caller = caller
        }
        var appOrigins: [String]?
        if case .app(let app) = context.caller {
            guard let scope else {
                return Self.refuse(request, context: context, envelope: envelope, status: .forbidden,
                                   message: "This part of the API cannot be used with an OAuth access token.", error: "insufficient_scope",
                                   challenge: "Bearer realm=\"gatehouse\", error=\"insufficient_scope\"")
            }
            let accepted = scope.acceptedScopes
            guard app.claims.grantsAny(of: accepted) else {
                let list = accepted.joined(separator: " ")
                var response = Self.refuse(request, context: context, envelope: envelope, status: .forbidden,
                                           message: "This call needs one of: \(list).", error: "insufficient_scope",
                                           challenge: "Bearer realm=\"gatehouse\", error=\"insufficient_scope\", scope=\"\(list)\"")
                try await decorate(&response, request: request, app: app)
                return response
            }
            appOrigins = try await clients.find(app.clientID)?.allowedOrigins ?? []
        }
        var response: Response
        do {
            if case .browser = context.caller, request.method != .get, request.method != .head, !cameFromOurPages(request) {
                throw AppError.forbidden("A change made with the session cookie must come from the portal's own pages.")
            }
            if let budget, let person = context.caller?.person,
               let retryAfter = limiter.retryAfter(key: "clients:\(budget.rawValue):\(person.id.rawValue)", limit: budget.limit(in: limits), now: clock.now)
            {
                throw AppError.tooManyRequests(retryAfter: retryAfter, message: "Too many requests to the clients API; try again in \(retryAfter) s.")
            }
            response = try await handler(request, context)
        } catch {
            response = try AppError.from(error).response(from: request, context: context, envelope: envelope)
        }
        if request.headers.value(.origin) != nil {
            response.headers[.vary] = "Origin"
            if let appOrigins { cors.decorate(&response, request: request, clientOrigins: appOrigins) }
        }
        return response
    }

    private func decorate(_ response: inout Response, request: Request, app: AppCaller) async throws {
        guard request.headers.value(.origin) != nil else { return }
        cors.decorate(&response, request: request, clientOrigins: try await clients.find(app.clientID)?.allowedOrigins ?? [])
    }

    /// Fetch metadata (`Sec-Fetch-Site: same-origin`) or an `Origin` equal to the portal's own. A
    /// browser sends one of them with every state-changing request; a request with neither is refused.
    private func cameFromOurPages(_ request: Request) -> Bool {
        if let site = request.headers[.secFetchSite] { return site == "same-origin" }
        if let origin = request.headers.value(.origin) { return origin == publicOrigin }
        return false
    }

    /// A refusal with its RFC 6750 §3 challenge, in the envelope on the portal API and as an RFC 6750
    /// error object elsewhere.
    static func refuse(_ request: Request, context: AppRequestContext, envelope: Bool, status: HTTPResponse.Status, message: String,
                       error: String, challenge: String) -> Response {
        var response = envelope
            ? PortalAPI.errorResponse(status: status, message: message, type: error)
            : ((try? OAuthError(error, message).response(from: request, context: context)) ?? Response(status: status))
        response.headers[.wwwAuthenticate] = challenge
        return response
    }
}

extension HTTPField.Name {
    /// Fetch metadata: where a request was started from.
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}

/// `scheme://host[:port]` of a URL (RFC 6454 §6.1), as browsers send it in `Origin`.
func origin(of url: URL) -> String {
    var text = "\(url.scheme ?? "http")://\(url.host ?? "")"
    if let port = url.port { text += ":\(port)" }
    return text
}
