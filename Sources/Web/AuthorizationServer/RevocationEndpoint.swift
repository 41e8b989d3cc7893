import Foundation
import Hummingbird
import OAuthCore

/// `POST /oauth2/revoke` (RFC 7009): 200 for every well-formed request; a refresh token ends its
/// whole grant, an access token ends itself (a developer token its grant) — on every process within
/// a second.
struct RevocationEndpoint {
    let authenticator: ClientAuthenticator
    let cors: OAuthCORS
    let tokens: TokenRevocations

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
            // RFC 7009 §2.2: the answer is the same whatever the token was.
            _ = try await tokens.revoke(token, of: form.client.clientID)
            var response = Response(status: .ok, headers: [.cacheControl: "no-store"])
            cors.decorate(&response, request: request, clientOrigins: form.client.allowedOrigins)
            return response
        }
    }
}

/// Revoking a token an app holds, for `/oauth2/revoke` and the app page's "Revoke token" (SPEC §7).
public struct TokenRevocations: Sendable {
    let refreshTokens: any RefreshTokenStore
    let grants: any GrantStore
    let developerTokens: any DeveloperTokenStore
    let keys: KeyRing
    let revoker: Revoker

    /// Revocations through `store`, applied in this process at once by `revoker`.
    public init(store: any RefreshTokenStore & GrantStore, developerTokens: any DeveloperTokenStore, keys: KeyRing, revoker: Revoker) {
        refreshTokens = store
        grants = LocallyAppliedGrantStore(inner: store, revoker: revoker)
        self.developerTokens = LocallyAppliedDeveloperTokenStore(inner: developerTokens, revoker: revoker)
        self.keys = keys
        self.revoker = revoker
    }

    /// What became of a token.
    enum Outcome: Equatable {
        case revoked
        /// A token of this portal, issued to another app: left alone.
        case anotherApp
        /// Not a token this portal issued (or one whose signing key is gone).
        case unknown
    }

    func revoke(_ token: String, of clientID: ClientID) async throws -> Outcome {
        let now = revoker.clock.now
        let expiry = revoker.feedExpiry(at: now)
        if token.contains(".") {
            guard let (claims, _) = JWT.verify(token, as: AccessTokenClaims.self, keys: keys.verificationKeys) else { return .unknown }
            guard let revocation = TokenRevocation.of(accessToken: claims, caller: clientID) else { return .anotherApp }
            // A developer token ends its grant, so the app's page no longer shows it as current.
            if try await developerTokens.revokeDeveloperToken(grantID: GrantID(rawValue: claims.gid), at: now, feedExpiry: expiry) {
                return .revoked
            }
            try await grants.record(revocation, at: now, feedExpiry: expiry)
            return .revoked
        }
        guard let stored = try await refreshTokens.find(tokenHash: OpaqueToken.hash(token)) else { return .unknown }
        guard case .grant(let grantID)? = TokenRevocation.of(refreshToken: stored, caller: clientID) else { return .anotherApp }
        try await grants.revoke(grantID: grantID, at: now, feedExpiry: expiry)
        return .revoked
    }
}
