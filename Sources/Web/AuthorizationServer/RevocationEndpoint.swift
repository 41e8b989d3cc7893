import Foundation
import Hummingbird
import OAuthCore

/// `POST /oauth2/revoke` (RFC 7009): 200 for every well-formed request; a refresh token ends its
/// whole grant, an access token ends itself — on every process within a second.
struct RevocationEndpoint {
    let authenticator: ClientAuthenticator
    let refreshTokens: any RefreshTokenStore
    let grants: any GrantStore
    let keys: KeyRing
    let cors: OAuthCORS
    let revoker: Revoker

    func addRoutes(to routes: RouteGroup) {
        routes.on("/revoke", .options, .anyone) { request, _ in try await cors.preflight(request, methods: "POST") }
        routes.post("/revoke", .anyone) { request, context in
            let form: AuthenticatedForm
            do {
                form = try await authenticator.read(request, allowPublic: true)
            } catch let error as OAuthError {
                return try error.response(from: request, context: context)
            }
            guard let token = form.parameters["token"], !token.isEmpty else {
                return try OAuthError.invalidRequest("token is missing.").response(from: request, context: context)
            }
            try await revoke(token, client: form.client)
            var response = Response(status: .ok, headers: [.cacheControl: "no-store"])
            cors.decorate(&response, request: request, clientOrigins: form.client.allowedOrigins)
            return response
        }
    }

    func revoke(_ token: String, client: RegisteredClient) async throws {
        let now = revoker.clock.now
        let expiry = revoker.feedExpiry(at: now)
        if token.contains(".") {
            guard let (claims, _) = JWT.verify(token, as: AccessTokenClaims.self, keys: keys.verificationKeys),
                  let revocation = TokenRevocation.of(accessToken: claims, caller: client.clientID)
            else { return }
            try await grants.record(revocation, at: now, feedExpiry: expiry)
            return
        }
        guard let stored = try await refreshTokens.find(tokenHash: OpaqueToken.hash(token)),
              case .grant(let grantID)? = TokenRevocation.of(refreshToken: stored, caller: client.clientID)
        else { return }
        try await grants.revoke(grantID: grantID, at: now, feedExpiry: expiry)
    }
}
