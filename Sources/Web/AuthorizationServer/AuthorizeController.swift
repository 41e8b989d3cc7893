import Crypto
import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// `GET|POST /oauth2/authorize` (RFC 6749 §4.1.1–4.1.2, OIDC Core §3.1.2): the checks of
/// `AuthorizationChecks` in order, then sign-in, consent, and the code.
struct AuthorizeController {
    let lookup: any ClientLookup
    let consents: any ConsentStore
    let codes: any AuthorizationCodeStore
    let pages: Pages
    let csrf: CSRFProtection
    let bindingKey: SymmetricKey
    let issuer: String
    let codeLifetime: TimeInterval
    let resources: ResourceIndicators
    /// Apps known by their metadata documents; `nil` when `GATEHOUSE_CLIENT_METADATA_DOCUMENTS=off`.
    let documents: ClientMetadataDocuments?
    let clock: any TimeSource
    let metrics: AppMetrics

    func addRoutes(to routes: RouteGroup) {
        routes.get("/authorize", .page) { request, context in
            let pairs = FormFields(encoded: request.uri.query ?? "").pairs
            return try await authorize(AuthorizationRequest(pairs: pairs), request: request, context: context)
        }
        routes.post("/authorize", .page) { request, context in
            let form = try await csrf.checkedForm(request, refusal: AppError.forbidden(
                "The consent form has expired or did not come from this site. Start again from the app."
            ))
            var pairs = form.pairs.filter { !["csrf_token", "binding", "consent"].contains($0.name) }
            pairs.removeAll { $0.name == "prompt" }
            let authorization = AuthorizationRequest(pairs: pairs)
            guard let person = context.caller?.person,
                  let binding = form["binding"],
                  ConstantTime.equals(binding, bind(authorization, csrfCookie: csrf.csrfCookie(of: request), person: person.id))
            else {
                throw AppError.forbidden("The consent form does not belong to this request. Start again from the app.")
            }
            guard let decision = form["consent"], decision == "allow" || decision == "deny" else {
                throw AppError.badRequest("consent must be allow or deny.")
            }
            return try await authorize(authorization, request: request, context: context, decision: decision)
        }
    }

    private func authorize(_ authorization: AuthorizationRequest, request: Request, context: AppRequestContext, decision: String? = nil)
        async throws -> Response
    {
        func errorPage(_ error: OAuthError) -> Response {
            metrics.authorizeOutcome("error_page")
            return pages.render("oauth-error", ["error": error.code, "description": error.description], request: request,
                                context: context, status: .badRequest)
        }
        // SPEC §6: a client_id that is a URL names the app's metadata document, read before the checks.
        if let raw = authorization.clientID, !authorization.duplicated.contains("client_id"), let id = ClientID(validating: raw),
           id.isDocumentURL {
            guard let documents else {
                return errorPage(.invalidClient("This portal does not take client metadata documents: the app must be registered here."))
            }
            do {
                try await documents.prepare(id, requester: context.clientAddress)
            } catch let refused as ClientMetadataDocuments.Refused {
                // The URL was checked to be printable ASCII; the detail is the server's own words.
                context.logger.info("client metadata document refused", metadata: ["client_id": "\(id)", "detail": "\(refused.detail)"])
                return errorPage(refused.error)
            } catch let error as OAuthError {
                context.logger.info("client metadata document refused", metadata: ["client_id": "\(id)", "error": "\(error.code)"])
                return errorPage(error)
            }
        }
        let validated: ValidatedAuthorization
        switch try await AuthorizationChecks.validate(authorization, lookup: lookup, resources: resources) {
        case .failure(.errorPage(let error)):
            return errorPage(error)
        case .failure(.redirect(let error, let redirectURI, let state)):
            return redirect(redirectURI, [("error", error.code), ("error_description", error.description), ("state", state)])
        case .success(let value):
            validated = value
        }
        func fail(_ error: OAuthError) -> Response {
            redirect(validated.redirectURI, [("error", error.code), ("error_description", error.description), ("state", validated.state)])
        }

        let session = context.signedIn.flatMap { $0.session.kind == .browser ? $0 : nil }
        let now = clock.now
        var remembered: [String]?
        // RFC 8252 §8.6: another local program can claim a public app's id, so consent to an app that
        // registered itself is never remembered: the person is asked every time (SPEC §6).
        if let session, decision == nil, !validated.client.registrar.isSelfAsserted {
            remembered = try await consents.find(personID: session.person.id.subject, clientID: validated.client.clientID)?.scopes
        }
        let step = AuthorizationDecision.next(
            validated, authenticatedAt: session?.session.authenticatedAt, remembered: remembered, answer: decision, now: now
        )
        switch step {
        case .refuse(let error):
            return fail(error)
        case .signIn(let force):
            metrics.authorizeOutcome("sign_in")
            return .found(signInURL(authorization, force: force, clientID: validated.client.clientID.rawValue))
        case .askConsent:
            guard let session else { return fail(.loginRequired("The person is not signed in.")) }
            let page = consentPage(validated, authorization: authorization, signedIn: session, request: request, context: context)
            metrics.authorizeOutcome(page.status == .ok ? "consent" : "error_page")
            return page
        case .issueCode(let remember):
            guard let session else { return fail(.loginRequired("The person is not signed in.")) }
            let personID = session.person.id.subject
            // SPEC §6: an app known by its metadata document gets its row on first successful use.
            if validated.client.registrar == .document, let documents {
                do { try await documents.persist(validated.client) } catch let error as OAuthError { return fail(error) }
            }
            if remember {
                try await consents.allow(personID: personID, clientID: validated.client.clientID, scopes: validated.scopes.names, at: now)
            }
            let (code, record) = AuthorizationDecision.code(
                for: validated, personID: personID, authenticatedAt: session.session.authenticatedAt, now: now, lifetime: codeLifetime
            )
            try await codes.issue(record)
            context.logger.debug("authorization code issued", metadata: ["client_id": "\(validated.client.clientID)"])
            return redirect(validated.redirectURI, [("code", code), ("state", validated.state)])
        }
    }

    private func consentPage(_ validated: ValidatedAuthorization, authorization: AuthorizationRequest, signedIn: SignedIn,
                             request: Request, context: AppRequestContext) -> Response {
        var withoutPrompt = authorization
        withoutPrompt.prompt = nil
        let client = validated.client
        // One CSRF state for the page: its cookie both signs the form and binds it to this request.
        let csrfState = csrf.token(for: request)
        // SPEC §6: an app that registered itself is said to be so, with the host it sends the person back
        // to shown prominently, and a warning when that is only this device.
        // A private-use scheme names an app on this device whatever its "host" says, so the scheme is shown.
        let components = URLComponents(string: validated.redirectURI)
        let scheme = components?.scheme?.lowercased() ?? ""
        let redirectHost = scheme == "http" || scheme == "https" ? components?.host ?? "" : "an app on this device (\(scheme):)"
        let data: [String: Any] = [
            "app": [
                "name": client.name, "description": client.description, "website": client.websiteURL,
                "policy": client.policyURL, "terms": client.termsURL, "iconPath": ClientIcons.path(for: client),
                "hasLinks": !client.policyURL.isEmpty && !client.termsURL.isEmpty,
            ],
            "selfRegistered": client.registrar.isSelfAsserted,
            "isDocument": client.registrar == .document, "documentURL": client.clientID.rawValue,
            "redirectHost": redirectHost,
            "thisDeviceOnly": client.registrar.isSelfAsserted && URLRules.isNativeRedirect(validated.redirectURI),
            "scopes": validated.scopes.names.compactMap(ScopeCatalog.scope(named:)).map { ["name": $0.name, "description": $0.description] },
            "person": ["name": signedIn.person.displayName, "email": signedIn.person.email],
            "switchAccount": signInURL(withoutPrompt, force: true, clientID: client.clientID.rawValue),
            "fields": withoutPrompt.canonicalPairs.map { ["name": $0.0, "value": $0.1] },
            "binding": bind(withoutPrompt, csrfCookie: csrfState.cookieValue, person: signedIn.person.id),
        ]
        return pages.render("consent", data, request: request, context: context, csrfState: csrfState)
    }

    /// HMAC over the request's parameters, the browser's CSRF cookie and the person it was shown to:
    /// the consent form can only be posted back for the very request and person it was shown for.
    private func bind(_ authorization: AuthorizationRequest, csrfCookie cookie: String, person: PersonID) -> String {
        let canonical = authorization.canonicalPairs.filter { $0.0 != "prompt" }.map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        let mac = HMAC<SHA256>.authenticationCode(for: Data((cookie + "\n" + person.rawValue + "\n" + canonical).utf8), using: bindingKey)
        return Base64URL.encode(mac)
    }

    /// The sign-in page, returning to the request. The way back leaves out `prompt=login` and `max_age`:
    /// the sign-in about to happen satisfies both (OIDC Core §3.1.2.1), so `max_age=0` does not send the
    /// person round again; `auth_time` in the ID token tells the app when it was.
    private func signInURL(_ authorization: AuthorizationRequest, force: Bool, clientID: String) -> String {
        var back = authorization
        back.prompt = authorization.prompt.map { $0.split(separator: " ").filter { $0 != "login" }.joined(separator: " ") }
        if back.prompt?.isEmpty == true { back.prompt = nil }
        back.maxAge = nil
        let query = back.canonicalPairs.map { "\(AuthorizationChecks.formEscape($0.0))=\(AuthorizationChecks.formEscape($0.1))" }
            .joined(separator: "&")
        let target = "/oauth2/authorize?" + query
        var url = "/login?type=oauth2&client_id=\(AuthorizationChecks.formEscape(clientID))&redirect=\(AuthorizationChecks.formEscape(target))"
        if force { url += "&force=1" }
        return url
    }

    /// Every redirect back to the app, counted by what it carries (RFC 6749 §4.1.2 and §4.1.2.1).
    private func redirect(_ redirectURI: String, _ parameters: [(String, String?)]) -> Response {
        if let error = parameters.first(where: { $0.0 == "error" })?.1 {
            metrics.authorizeOutcome("error_redirect", error: error)
        } else {
            metrics.authorizeOutcome("code")
        }
        return .found(AuthorizationChecks.responseURL(redirectURI: redirectURI, parameters: parameters, issuer: issuer))
    }
}
