import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// OAuth access tokens on the portal API (SPEC §4, RFC 6750): a JWT bearer is verified with the
/// in-memory key ring and the revocation set, then held against the route's scope. A missing or
/// bad token is 401 `invalid_token`; a missing scope is 403 `insufficient_scope`. The person's own
/// rights are checked after that by the route, so a token never has more rights than its person.
///
/// CORS for the portal API lives here too, since only here is the token's app known: an answer to
/// an OAuth call carries `Access-Control-Allow-Origin` only for that app's `allowed_origins`, and a
/// preflight is answered for an origin that any enabled app registered.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let verifier: AccessTokenVerifier
    let people: any PersonStore
    let clients: any ClientLookup
    let cors: OAuthCORS

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/2.0/") else { return try await next(request, context) }
        if request.method == .options, PortalAPI.answersInEnvelope(request), request.headers[.accessControlRequestMethod] != nil {
            return try await cors.preflight(request, methods: "GET, POST, PUT, DELETE")
        }
        guard let token = AccessTokenVerifier.bearer(request.headers.value(.authorization)),
              Self.looksLikeJWT(token)
        else {
            var response = try await next(request, context)
            if request.headers.value(.origin) != nil { response.headers[.vary] = "Origin" }
            return response
        }
        guard let claims = verifier.verify(token),
              let person = try await people.find(id: PersonID(rawValue: claims.sub))
        else {
            return Self.refuse(request, context: context, status: .unauthorized, message: "The access token is invalid, expired or revoked.",
                               error: "invalid_token", challenge: PortalAPI.invalidTokenChallenge)
        }
        var response: Response
        switch ScopeMap.requirement(method: request.method.rawValue, path: path) {
        case .unreachable:
            response = Self.refuse(request, context: context, status: .forbidden, message: "This part of the API cannot be used with an OAuth access token.",
                                   error: "insufficient_scope", challenge: "Bearer realm=\"gatehouse\", error=\"insufficient_scope\"")
        case .anyOf(let scopes) where !claims.grantsAny(of: scopes):
            let list = scopes.joined(separator: " ")
            response = Self.refuse(request, context: context, status: .forbidden, message: "This call needs one of: \(list).", error: "insufficient_scope",
                                   challenge: "Bearer realm=\"gatehouse\", error=\"insufficient_scope\", scope=\"\(list)\"")
        case .anyOf:
            var context = context
            context.signedIn = SignedIn(person: person, session: Session(
                tokenHash: "", personID: person.id, kind: .oauth, authenticatedAt: Date(unixSeconds: claims.auth_time),
                expiresAt: Date(unixSeconds: claims.exp)
            ))
            do {
                response = try await next(request, context)
            } catch {
                response = try AppError.from(error).response(from: request, context: context)
            }
        }
        if let origin = request.headers.value(.origin) {
            response.headers[.vary] = "Origin"
            if let client = try await clients.find(ClientID(rawValue: claims.client_id)), client.allowedOrigins.contains(origin) {
                response.headers[.accessControlAllowOrigin] = origin
            }
        }
        return response
    }

    /// A JWT has dot-separated parts (RFC 7515 §7.1) and a portal token has no `.` at all, so the first
    /// `.` (at the end of a JWT's header) tells them apart; `JWT.verify` then holds the token to the
    /// exact form. Anything else is left to the session middleware.
    static func looksLikeJWT(_ token: String) -> Bool { token.utf8.contains(UInt8(ascii: ".")) }

    /// A refusal with its RFC 6750 §3 challenge, in the envelope on the portal API and as an RFC 6750
    /// error object elsewhere.
    static func refuse(_ request: Request, context: Context, status: HTTPResponse.Status, message: String, error: String,
                       challenge: String) -> Response {
        var response = PortalAPI.answersInEnvelope(request)
            ? PortalAPI.errorResponse(status: status, message: message, type: error)
            : ((try? OAuthError(error, message).response(from: request, context: context)) ?? Response(status: status))
        response.headers[.wwwAuthenticate] = challenge
        return response
    }
}
