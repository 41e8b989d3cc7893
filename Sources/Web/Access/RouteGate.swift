import Foundation
import HTTPTypes
import Hummingbird
import OAuthCore
import PortalCore

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
    /// The resource the `.api` routes are (RFC 9728): its challenge names its metadata.
    let portalAPI: ProtectedResource
    /// The MCP server, and the verifier that takes only tokens issued for it.
    let mcp: ProtectedResource
    let mcpVerifier: AccessTokenVerifier

    func pass(_ request: Request, context: AppRequestContext, access: RouteAccess, _ handler: Routes.Handler) async throws -> Response {
        var context = context
        switch access {
        case .anyone:
            return try await handler(request, context)
        case .tokenEndpoint:
            let authentication = authentication
            context.browserSession = { try await authentication.browserSession(request) }
            return try await handler(request, context)
        case .page:
            if let signedIn = try await authentication.browserSession(request) { context.caller = .browser(signedIn) }
            return try await handler(request, context)
        case .pageSpending(let budget):
            if let signedIn = try await authentication.browserSession(request) {
                context.caller = .browser(signedIn)
                try spend(budget, by: signedIn.person)
            }
            return try await handler(request, context)
        case .operatorOnly:
            guard metricsAccess.allows(request, context: context) else {
                throw AppError.forbidden("Metrics are for the operator: send the metrics token as a bearer, or call from a trusted address.")
            }
            return try await handler(request, context)
        case .api(let scope, let budget):
            return try await api(request, context: context, scope: scope, budget: budget, envelope: scope != nil, anyAPIKey: false, handler)
        case .apiKeys(let anyKey):
            return try await api(request, context: context, scope: nil, budget: nil, envelope: true, anyAPIKey: anyKey, handler)
        case .mcp:
            return try await mcpCall(request, context: context, handler)
        }
    }

    /// SPEC §6: the MCP server takes an OAuth access token issued for it and nothing else (no session,
    /// portal token or API key, and no token for the API: RFC 8707). A refusal names the server's
    /// metadata (RFC 9728 §5.1) so that a client given only its address finds where to get one.
    private func mcpCall(_ request: Request, context: AppRequestContext, _ handler: Routes.Handler) async throws -> Response {
        var context = context
        guard let credentials = AccessTokenVerifier.bearerCredentials(request.headers.value(.authorization)) else {
            return Self.mcpRefusal(request, context: context, status: .unauthorized,
                                   message: "This MCP server needs an OAuth access token issued for \(mcp.resource).", challenge: mcp.challenge())
        }
        guard credentials.utf8.contains(UInt8(ascii: ".")), let claims = mcpVerifier.verify(String(credentials)),
              let person = try await authentication.people.find(id: PersonID(rawValue: claims.sub))
        else {
            return Self.mcpRefusal(request, context: context, status: .unauthorized,
                                   message: "The access token is invalid, expired, revoked, or not issued for \(mcp.resource).",
                                   challenge: mcp.challenge(error: "invalid_token"))
        }
        context.caller = .app(AppCaller(person: person, clientID: ClientID(rawValue: claims.client_id), claims: claims))
        return try await handler(request, context)
    }

    /// An HTTP-level refusal of the MCP server: RFC 6750's error object with the RFC 9728 challenge.
    static func mcpRefusal(_ request: Request, context: AppRequestContext, status: HTTPResponse.Status, message: String,
                           challenge: String) -> Response {
        let code = status == .forbidden ? "insufficient_scope" : "invalid_token"
        var response = (try? OAuthError(code, message).response(from: request, context: context)) ?? Response(status: status)
        response.status = status
        response.headers[.wwwAuthenticate] = challenge
        return response
    }

    private func api(_ request: Request, context: AppRequestContext, scope: ScopeRequirement?, budget: RateBudget?, envelope: Bool,
                     anyAPIKey: Bool, _ handler: Routes.Handler) async throws -> Response {
        var context = context
        switch try await authentication.authenticate(request, acceptingBearer: true) {
        case .nobody:
            break
        case .invalidAccessToken:
            return Self.refuse(request, context: context, envelope: envelope, status: .unauthorized,
                               message: "The access token is invalid, expired or revoked.", error: "invalid_token",
                               challenge: portalAPI.challenge(error: "invalid_token"))
        case .caller(let caller):
            context.caller = caller
        }
        // Every answer to an app, refusals included, carries CORS for its origins; they are needed only
        // when a browser sent an Origin.
        var appOrigins: [String]?
        if case .app(let app) = context.caller, request.headers.value(.origin) != nil {
            appOrigins = try await clients.find(app.clientID)?.allowedOrigins ?? []
        }
        var response: Response
        if let caller = context.caller, let refusal = scopeRefusal(request, context: context, scope: scope, caller: caller, envelope: envelope, anyAPIKey: anyAPIKey) {
            response = refusal
        } else {
            response = try await run(request, context: context, envelope: envelope, budget: budget, handler)
            // RFC 6750 §3.1 and RFC 9728 §5.1: a 401 says where the authorization server is, and
            // `invalid_token` when credentials were sent and did not do.
            if response.status == .unauthorized {
                response.headers[.wwwAuthenticate] = portalAPI.challenge(error: request.headers[.authorization] == nil ? nil : "invalid_token")
            }
        }
        if request.headers.value(.origin) != nil {
            response.headers[.vary] = "Origin"
            if let appOrigins { cors.decorate(&response, request: request, clientOrigins: appOrigins) }
        }
        return response
    }

    /// RFC 6750 §3.1: 403 `insufficient_scope` when the route takes no OAuth token or API key, or the
    /// token or key lacks its scope. A person's own session or portal token is never refused here.
    private func scopeRefusal(_ request: Request, context: AppRequestContext, scope: ScopeRequirement?, caller: Caller, envelope: Bool,
                              anyAPIKey: Bool) -> Response?
    {
        let credential: String
        switch caller {
        case .browser, .portalToken: return nil
        case .app: credential = "an OAuth access token"
        case .apiKey:
            if anyAPIKey { return nil }
            credential = "an API key"
        }
        guard let scope else {
            return Self.refuse(request, context: context, envelope: envelope, status: .forbidden,
                               message: "This part of the API cannot be used with \(credential).", error: "insufficient_scope",
                               challenge: portalAPI.challenge(error: "insufficient_scope"))
        }
        let accepted = scope.acceptedScopes
        guard !caller.grantsAny(of: accepted) else { return nil }
        let list = accepted.joined(separator: " ")
        // The challenge names the least scope that would do (the read scope for a read), which a
        // client can ask the person for (SPEC §6); the message names every scope accepted.
        return Self.refuse(request, context: context, envelope: true, status: .forbidden, message: "This call needs one of: \(list).",
                           error: "insufficient_scope", challenge: portalAPI.challenge(error: "insufficient_scope", scope: accepted[0]))
    }

    /// The route's own checks for a person's call (a browser's change proves its origin, the budget is
    /// spent), then the handler; errors become the route's answers.
    private func run(_ request: Request, context: AppRequestContext, envelope: Bool, budget: RateBudget?, _ handler: Routes.Handler)
        async throws -> Response
    {
        var response: Response
        do {
            if case .browser = context.caller, request.method != .get, request.method != .head,
               !Self.cameFromOurPages(request, publicOrigin: publicOrigin) {
                throw AppError.forbidden("A change made with the session cookie must come from the portal's own pages.")
            }
            if let budget, let person = context.caller?.person { try spend(budget, by: person) }
            response = try await handler(request, context)
        } catch {
            response = try AppError.from(error).response(from: request, context: context, envelope: envelope)
        }
        return response
    }

    /// Counts one request of `person` against `budget`; 429 with `Retry-After` past it.
    private func spend(_ budget: RateBudget, by person: Person) throws {
        if let retryAfter = limiter.retryAfter(key: "clients:\(budget.rawValue):\(person.id.rawValue)", limit: budget.limit(in: limits), now: clock.now) {
            throw AppError.tooManyRequests(retryAfter: retryAfter, message: "Too many requests to the clients API; try again in \(retryAfter) s.")
        }
    }

    /// Fetch metadata (`Sec-Fetch-Site: same-origin`) or an `Origin` equal to the portal's own. A
    /// browser sends one of them with every state-changing request; a request with neither is refused.
    static func cameFromOurPages(_ request: Request, publicOrigin: String) -> Bool {
        if let site = request.headers[.secFetchSite] { return site == "same-origin" }
        if let origin = request.headers.value(.origin) { return origin == publicOrigin }
        return false
    }

    /// A refusal with its RFC 6750 §3 challenge: in the envelope on the portal API (SPEC §4), and as the
    /// clients API's RFC 9457 problem elsewhere (SPEC §2: its errors are `application/problem+json`).
    static func refuse(_ request: Request, context: AppRequestContext, envelope: Bool, status: HTTPResponse.Status, message: String,
                       error: String, challenge: String) -> Response {
        var response: Response
        if envelope {
            response = PortalAPI.errorResponse(status: status, message: message, type: error)
        } else {
            let refusal: AppError = status == .unauthorized ? .unauthorized(message) : .forbidden(message)
            response = (try? refusal.response(from: request, context: context, envelope: false)) ?? Response(status: status)
        }
        response.headers[.wwwAuthenticate] = challenge
        return response
    }
}

extension HTTPField.Name {
    /// Fetch metadata: where a request was started from.
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
