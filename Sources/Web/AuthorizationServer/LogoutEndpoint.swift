import Foundation
import Hummingbird
import OAuthCore

/// `/oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0). With an `id_token_hint` that this
/// server issued to the signed-in person, the session ends at once and the browser returns to the
/// hint's app's registered `logout_redirect_uri` (exact string, §3). Without one — or with a hint
/// for somebody else — any page could sign the person out, so the person is asked first (§2: "the
/// OP SHOULD ask the End-User whether to log out"), with a CSRF-protected form, and no redirect is
/// followed afterwards.
struct LogoutEndpoint {
    let keys: KeyRing
    let lookup: any ClientLookup
    let signIn: SignInService
    let pages: Pages
    let csrf: CSRFProtection
    let issuer: String

    func addRoutes(to routes: RouteGroup) {
        routes.get("/logout", .page) { request, context in
            try await logout(FormFields(encoded: request.uri.query ?? ""), request: request, context: context)
        }
        routes.post("/logout", .page) { request, context in
            let form = try await RequestBody.form(from: request)
            if form["confirm"] != nil {
                // The person's answer on the confirmation page.
                guard csrf.verify(form[CSRFProtection.fieldName], request: request) else { throw CSRFProtection.staleForm }
                return try await end(request, then: nil)
            }
            return try await logout(form, request: request, context: context)
        }
    }

    private func logout(_ parameters: FormFields, request: Request, context: AppRequestContext) async throws -> Response {
        let returnTo = parameters["post_logout_redirect_uri"]
        var clientID = parameters["client_id"]
        var hintSubject: String?
        if let hint = parameters["id_token_hint"] {
            // An expired ID token is still a fine hint; its signature must be ours.
            guard let (claims, _) = JWT.verify(hint, as: IDTokenClaims.self, keys: keys.verificationKeys), claims.iss == issuer else {
                return errorPage(request, context, "id_token_hint is not an ID token from this server.")
            }
            if let clientID, clientID != claims.aud { return errorPage(request, context, "client_id does not match id_token_hint.") }
            clientID = claims.aud
            hintSubject = claims.sub
        }
        var app: RegisteredClient?
        if let clientID, let id = ClientID(validating: clientID) { app = try await lookup.find(id) }
        var target: String?
        if let returnTo {
            guard hintSubject != nil, let app, app.logoutRedirectURI == returnTo else {
                return errorPage(request, context,
                                 "post_logout_redirect_uri needs an id_token_hint from the app that registered it as its logout redirect URL.")
            }
            var components = URLComponents(string: returnTo)
            if let state = parameters["state"] {
                let existing = components?.queryItems ?? []
                components?.queryItems = existing + [URLQueryItem(name: "state", value: state)]
            }
            target = components?.string ?? returnTo
        }
        guard let person = context.caller?.person else {
            // Nobody is signed in here: nothing to end.
            return try await end(request, then: target)
        }
        guard let hintSubject, hintSubject == person.id.rawValue else {
            var data: [String: Any] = ["email": person.email]
            // Only a signed hint says which app asks; a bare client_id could be anyone's.
            if hintSubject != nil, let app, app.enabled { data["appName"] = app.name }
            return pages.render("logout-confirm", data, request: request, context: context)
        }
        return try await end(request, then: target)
    }

    /// Ends the browser's session and returns to `target`, or shows that the person is signed out.
    private func end(_ request: Request, then target: String?) async throws -> Response {
        try await signIn.endSession(of: request, cookie: csrf.cookies.session)
        var response = target.map(Response.found) ?? pages.render("signed-out", [:], request: request, context: nil)
        response.setCookie(csrf.sessionCookie(""))
        return response
    }

    private func errorPage(_ request: Request, _ context: AppRequestContext, _ description: String) -> Response {
        pages.render("oauth-error", ["error": "invalid_request", "description": description], request: request, context: context, status: .badRequest)
    }
}
