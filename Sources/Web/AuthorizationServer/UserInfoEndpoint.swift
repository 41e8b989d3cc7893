import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// `GET|POST /oauth2/userinfo` (OIDC Core §5.3): the person's claims for a token with `openid`.
struct UserInfoEndpoint {
    let verifier: AccessTokenVerifier
    let people: any PersonStore
    let lookup: any ClientLookup
    let cors: OAuthCORS

    func addRoutes(to routes: RouteGroup) {
        routes.on("/userinfo", .options, .anyone) { request, _ in try await cors.preflight(request, methods: "GET, POST") }
        for method in [HTTPRequest.Method.get, .post] {
            routes.on("/userinfo", method, .anyone) { request, context in
                var response: Response
                var origins: [String]?
                do {
                    guard let token = try await bearerToken(request), let claims = verifier.verify(token) else {
                        throw OAuthError.invalidToken("The access token is missing, invalid, expired or revoked.")
                    }
                    origins = try await lookup.find(ClientID(rawValue: claims.client_id))?.allowedOrigins
                    guard claims.grantsAny(of: ["openid"]) else {
                        throw OAuthError("insufficient_scope", "The token lacks the openid scope.")
                    }
                    guard let person = try await people.find(id: PersonID(rawValue: claims.sub)) else {
                        throw OAuthError.invalidToken("The person of this token no longer exists.")
                    }
                    response = try noStoreJSON(personClaims(person))
                } catch let error as OAuthError {
                    response = try error.response(from: request, context: context)
                }
                cors.decorate(&response, request: request, clientOrigins: origins)
                return response
            }
        }
    }
}

extension UserInfoEndpoint {
    /// RFC 6750 §2.1 (header) or §2.2 (form body of a POST): one of them, never both.
    func bearerToken(_ request: Request) async throws -> String? {
        let header = AccessTokenVerifier.bearer(request.headers.value(.authorization))
        guard request.method == .post, RequestBody.mediaType(request) == "application/x-www-form-urlencoded" else { return header }
        let body = try? await RequestBody.form(from: request)
        let fromBody = body?["access_token"]
        if header != nil, fromBody != nil { throw OAuthError.invalidRequest("Send the access token in one place only.") }
        return header ?? fromBody
    }
}

/// The OpenID claims of a person.
func personClaims(_ person: Person) -> PersonClaims {
    PersonClaims(sub: person.id.rawValue, name: person.displayName, givenName: person.firstName, familyName: person.lastName, email: person.email)
}
