import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// OAuth access tokens on the portal API (SPEC §4, RFC 6750): a JWT bearer is verified with the
/// in-memory key ring and the revocation set, then held against the route's scope. A missing or
/// bad token is 401 `invalid_token`; a missing scope is 403 `insufficient_scope`. The person's own
/// rights are checked after that by the route, so a token never has more rights than its person.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let verifier: AccessTokenVerifier
    let people: any PersonStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/2.0/"), let token = AccessTokenVerifier.bearer(request.headers[.authorization]),
              token.split(separator: ".").count == 3
        else { return try await next(request, context) }
        guard let claims = verifier.verify(token),
              let person = try await people.find(id: PersonID(rawValue: claims.sub))
        else { return try OAuthError.invalidToken("The access token is invalid, expired or revoked.").response(from: request, context: context) }
        switch ScopeMap.requirement(method: request.method.rawValue, path: path) {
        case .unreachable:
            return try OAuthError("insufficient_scope", "This part of the API cannot be used with an OAuth access token.")
                .response(from: request, context: context)
        case .anyOf(let scopes):
            guard !Set(scopes).isDisjoint(with: claims.scopes) else {
                var response = try OAuthError("insufficient_scope", "This call needs one of: \(scopes.joined(separator: " ")).")
                    .response(from: request, context: context)
                response.headers[.wwwAuthenticate] = "Bearer realm=\"gatehouse\", error=\"insufficient_scope\", scope=\"\(scopes.joined(separator: " "))\""
                return response
            }
        }
        var context = context
        context.signedIn = SignedIn(person: person, session: Session(
            tokenHash: "", personID: person.id, kind: .oauth, authenticatedAt: Date(unixSeconds: claims.auth_time),
            expiresAt: Date(unixSeconds: claims.exp)
        ))
        return try await next(request, context)
    }
}
