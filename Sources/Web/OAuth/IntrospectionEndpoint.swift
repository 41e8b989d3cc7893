import Foundation
import Hummingbird
import OAuthCore

/// `POST /oauth2/introspect` (RFC 7662): only the token's own app learns about it; anything
/// else — another app's, expired, revoked or unknown — is `{"active": false}`.
struct IntrospectionEndpoint {
    let authenticator: ClientAuthenticator
    let verifier: AccessTokenVerifier
    let refreshTokens: any RefreshTokenStore
    let grants: any GrantStore
    let cors: OAuthCORS
    let issuer: String
    let clock: any TimeSource

    struct Answer: Encodable {
        var active: Bool
        var scope: String?
        var client_id: String?
        var sub: String?
        var exp: Int64?
        var iat: Int64?
        var nbf: Int64?
        var iss: String?
        var aud: String?
        var jti: String?
        var token_type: String?

        static let inactive = Answer(active: false)
    }

    func addRoutes(to routes: Routes) {
        routes.on("/oauth2/introspect", .options, .anyone) { request, _ in try await cors.preflight(request, methods: "POST") }
        routes.post("/oauth2/introspect", .anyone) { request, context in
            let form: AuthenticatedForm
            do {
                form = try await authenticator.read(request, allowPublic: false)
            } catch let error as OAuthError {
                return try error.response(from: request, context: context)
            }
            guard let token = form.parameters["token"], !token.isEmpty else {
                return try OAuthError.invalidRequest("token is missing.").response(from: request, context: context)
            }
            var response = try noStoreJSON(try await introspect(token, client: form.client))
            cors.decorate(&response, request: request, clientOrigins: form.client.allowedOrigins)
            return response
        }
    }

    func introspect(_ token: String, client: RegisteredClient) async throws -> Answer {
        if let claims = verifier.verify(token) {
            guard claims.client_id == client.clientID.rawValue, claims.exp > clock.now.unixSeconds else { return .inactive }
            return Answer(active: true, scope: claims.scope, client_id: claims.client_id, sub: claims.sub, exp: claims.exp,
                          iat: claims.iat, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, jti: claims.jti, token_type: "Bearer")
        }
        guard !token.contains("."), let stored = try await refreshTokens.find(tokenHash: OpaqueToken.hash(token)),
              stored.clientID == client.clientID, stored.rotatedAt == nil, stored.expiresAt > clock.now,
              try await grants.isActive(grantID: stored.grantID)
        else { return .inactive }
        return Answer(active: true, scope: stored.scopes.joined(separator: " "), client_id: stored.clientID.rawValue, sub: stored.personID,
                      exp: stored.expiresAt.unixSeconds, iat: stored.createdAt.unixSeconds, iss: issuer, token_type: "refresh_token")
    }
}
