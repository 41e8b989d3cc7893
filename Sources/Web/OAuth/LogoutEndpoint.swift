import Foundation
import Hummingbird
import OAuthCore

/// `GET /oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0): ends the portal session and
/// returns only to the app's registered `logout_redirect_uri`, compared as an exact string.
struct LogoutEndpoint {
    let keys: KeyRing
    let lookup: any ClientLookup
    let signIn: SignInService
    let pages: Pages
    let issuer: String
    let secureCookies: Bool

    func addRoutes(to routes: Routes) {
        routes.get("/oauth2/logout", .page) { request, context in
            let query = FormFields(encoded: request.uri.query ?? "")
            let returnTo = query["post_logout_redirect_uri"]
            var clientID = query["client_id"]
            if let hint = query["id_token_hint"] {
                // An expired ID token is still a fine hint; its signature must be ours.
                guard let (claims, _) = JWT.verify(hint, as: IDTokenClaims.self, keys: keys.verificationKeys), claims.iss == issuer else {
                    return errorPage(request, context, "id_token_hint is not an ID token from this server.")
                }
                if let clientID, clientID != claims.aud { return errorPage(request, context, "client_id does not match id_token_hint.") }
                clientID = claims.aud
            }
            var target: String?
            if let returnTo {
                guard let clientID, let id = ClientID(validating: clientID), let client = try await lookup.find(id),
                      client.logoutRedirectURI == returnTo
                else {
                    return errorPage(request, context, "post_logout_redirect_uri is not the app's registered logout redirect URL.")
                }
                var components = URLComponents(string: returnTo)
                if let state = query["state"] {
                    let existing = components?.queryItems ?? []
                    components?.queryItems = existing + [URLQueryItem(name: "state", value: state)]
                }
                target = components?.string ?? returnTo
            }
            if let token = request.cookies[CallerAuthentication.cookieName]?.value, token.count <= 128 {
                try await signIn.end(token: token)
            }
            var response = target.map(Response.found) ?? pages.render("signed-out", [:], request: request, context: nil)
            response.setCookie(Cookie(name: CallerAuthentication.cookieName, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax))
            return response
        }
    }

    private func errorPage(_ request: Request, _ context: AppRequestContext, _ description: String) -> Response {
        pages.render("oauth-error", ["error": "invalid_request", "description": description], request: request, context: context, status: .badRequest)
    }
}
