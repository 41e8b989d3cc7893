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

    func addRoutes(to routes: RouteGroup) {
        routes.on("/introspect", .options, .anyone) { request, _ in try await cors.preflight(request, methods: "POST") }
        routes.post("/introspect", .anyone) { request, context in
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

    func introspect(_ token: String, client: RegisteredClient) async throws -> IntrospectionAnswer {
        let now = clock.now
        if let claims = verifier.verify(token) { return .accessToken(claims, caller: client.clientID, now: now) }
        guard !token.contains("."), let stored = try await refreshTokens.find(tokenHash: OpaqueToken.hash(token)) else { return .inactive }
        return try await .refreshToken(stored, caller: client.clientID, issuer: issuer, now: now) {
            try await grants.isActive(grantID: stored.grantID)
        }
    }
}
