import Foundation
import HTTPParsing
import HTTPTypes
import Hummingbird
import OAuthCore

/// The form of a token, revocation or introspection request, with its client authenticated.
struct AuthenticatedForm {
    let parameters: [String: String]
    /// RFC 8707 §2: `resource`, the one parameter that may come several times.
    let resources: [String]
    let credentials: ClientCredentials
    let client: RegisteredClient
}

/// Reading the form and authenticating the client, shared by `/oauth2/token`, `/oauth2/revoke`
/// and `/oauth2/introspect`. Failures are RFC 6749 §5.2 errors.
struct ClientAuthenticator {
    let lookup: any ClientLookup

    func read(_ request: Request, allowPublic: Bool) async throws -> AuthenticatedForm {
        guard RequestBody.mediaType(request) == "application/x-www-form-urlencoded" else {
            throw OAuthError.invalidRequest("The request must be an application/x-www-form-urlencoded form (RFC 6749 §4.1.3).")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await RequestBody.collect(request, limit: 64 * 1024)
        } catch {
            throw OAuthError.invalidRequest("The request body is too large.")
        }
        let form = FormFields(encoded: String(buffer: buffer))
        var parameters: [String: String] = [:]
        var resources: [String] = []
        for (name, value) in form.pairs {
            if name == "resource" {
                resources.append(value)
                continue
            }
            // RFC 6749 §3.2: parameters MUST NOT be included more than once.
            guard parameters[name] == nil else { throw OAuthError.invalidRequest("\(name) was sent more than once.") }
            parameters[name] = value
        }
        let credentials = try ClientCredentials.parse(authorization: AuthorizationHeader.client(request.headers.value(.authorization))) { parameters[$0] }.get()
        if case .none = credentials, !allowPublic {
            throw OAuthError.invalidClient("This endpoint needs the client's secret.")
        }
        let client = try await credentials.authenticate(lookup: lookup).get()
        return AuthenticatedForm(parameters: parameters, resources: resources, credentials: credentials, client: client)
    }
}

/// An app spent its token-request budget for this minute.
struct TokenRateLimited: Error {
    let retryAfter: Int
}

/// `POST /oauth2/token` (RFC 6749 §3.2): one handler per grant type.
struct TokenEndpoint {
    let authenticator: ClientAuthenticator
    let keys: KeyRing
    let grantContext: GrantContext
    let cors: OAuthCORS
    let metrics: AppMetrics
    let clock: any TimeSource
    let limiter: RateLimiter
    let requestsPerMinute: Int
    let csrf: CSRFProtection
    /// The portal's own origin: a `personal_access_token` request with the session cookie must come from it.
    let publicOrigin: String
    let handlers: [String: any GrantHandler] = Dictionary(uniqueKeysWithValues: TokenGrants.all.map { ($0.grantType, $0) })

    func addRoutes(to routes: RouteGroup) {
        routes.on("/token", .options, .anyone) { request, _ in try await cors.preflight(request, methods: "POST") }
        routes.post("/token", .tokenEndpoint) { request, context in
            var clientOrigins: [String]?
            var response: Response
            do {
                let form = try await authenticator.read(request, allowPublic: true)
                clientOrigins = form.client.allowedOrigins
                if let retryAfter = limiter.retryAfter(key: "token:\(form.client.clientID.rawValue)", limit: requestsPerMinute, now: clock.now) {
                    throw TokenRateLimited(retryAfter: retryAfter)
                }
                guard let grantType = form.parameters["grant_type"], !grantType.isEmpty else {
                    throw OAuthError.invalidRequest("grant_type is missing.")
                }
                guard let handler = handlers[grantType] else {
                    throw OAuthError.unsupportedGrantType("Supported grant types: \(TokenGrants.all.map(\.grantType).joined(separator: ", ")).")
                }
                guard let active = keys.active else { throw OAuthError.serverError("No signing key is available.") }
                let result = try await handler.handle(
                    TokenRequest(parameters: form.parameters, resources: form.resources, session: try await session(of: request, context, grantType: grantType)),
                    client: form.client, credentials: form.credentials,
                    keys: active, context: grantContext, now: clock.now
                )
                let answer = try result.get()
                metrics.tokenIssued(grantType: grantType, clientID: form.client.clientID.rawValue)
                response = try noStoreJSON(answer)
            } catch let error as OAuthError {
                metrics.oauthError(error.code)
                response = try error.response(from: request, context: context)
            } catch let limited as TokenRateLimited {
                // RFC 6585 §4: 429 with Retry-After; the body stays an RFC 6749 §5.2 error object.
                metrics.oauthError("rate_limited")
                response = try OAuthError("slow_down", "Too many token requests for this app; try again in \(limited.retryAfter) s.")
                    .response(from: request, context: context)
                response.status = .tooManyRequests
                response.headers[.retryAfter] = String(limited.retryAfter)
            }
            cors.decorate(&response, request: request, clientOrigins: clientOrigins)
            return response
        }
    }

    /// The person's session for the `personal_access_token` grant (SPEC §7), with its proof that the
    /// request came from the portal's own pages: a same-origin `Origin` or `Sec-Fetch-Site`, or the
    /// page's CSRF token in `X-CSRF-Token`. Other grants never act on a cookie.
    private func session(of request: Request, _ context: AppRequestContext, grantType: String) async throws -> SessionProof {
        guard grantType == PersonalAccessTokenGrant().grantType, let signedIn = try await context.browserSession?() else { return .none }
        guard RouteGate.cameFromOurPages(request, publicOrigin: publicOrigin)
                || csrf.verify(request.headers[.csrfToken], request: request)
        else { return .foreignOrigin }
        return .person(SessionPerson(signedIn))
    }
}

extension SessionPerson {
    /// The signed-in person as the developer token rules see them.
    init(_ signedIn: SignedIn) {
        self.init(personID: signedIn.person.id.subject, isGuest: signedIn.person.role == .guest,
                  isAdministrator: signedIn.person.role.isAdministrator, authTime: signedIn.session.authenticatedAt)
    }
}

extension HTTPField.Name {
    /// A page's CSRF token sent by its script (the `personal_access_token` grant's same-origin proof).
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
}
