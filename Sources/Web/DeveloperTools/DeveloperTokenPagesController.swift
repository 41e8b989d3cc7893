import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// An app's "Generate token" and "Revoke token" (SPEC §7): a developer token for the signed-in person
/// with the scopes ticked (a subset of the app's), shown once after Post/Redirect/Get with Created,
/// Expires, "Copy & close" and "Revoke"; and a form that takes a pasted token, checks that it is this
/// app's, and revokes it. Plain forms with the session and CSRF token; the same rules as the
/// `personal_access_token` grant (`DeveloperTokenIssuer`).
struct DeveloperTokenPagesController {
    let management: ClientManagement
    let developerTokens: DeveloperTokenIssuer
    let revocations: TokenRevocations
    let keys: KeyRing
    let pages: Pages
    let csrf: CSRFProtection
    let once: PageOnce
    let clock: any TimeSource

    func addRoutes(to routes: RouteGroup) {
        routes.get("/:client_id/developer-token", .page) { request, context in
            guard let signedIn = context.signedIn else { return ClientPagesController.signInFirst(request) }
            let client = try await management.manageable(try context.parameters.require("client_id"), by: signedIn.person)
            let token = try await once.take(request.uri.queryParameters["shown"].map(String.init), purpose: Self.tokenView(client), for: request)
            return try await page(request, context, client, person: signedIn.person, token: token)
        }
        routes.post("/:client_id/developer-token", .pageSpending(.clientsChange)) { request, context in
            guard let signedIn = context.signedIn else { return ClientPagesController.signInFirst(request) }
            let client = try await management.manageable(try context.parameters.require("client_id"), by: signedIn.person)
            let form = try await csrf.checkedForm(request)
            guard let key = keys.active?.accessToken else { throw AppError.internalError }
            let person = SessionPerson(signedIn)
            let base = "/developer-tools/oauth/\(client.id)/developer-token"
            // Post/Redirect/Get: the token is shown once; the same form sent twice makes one token.
            return try await once.once(formToken: form[PageOnce.formField], request: request, otherwise: base) {
                let scopes = form.all("scope").joined(separator: " ")
                switch try await developerTokens.issue(client: client, person: person, scopes: scopes, key: key, now: clock.now) {
                case .success(let issued):
                    let view = try await once.keep(issued.token, purpose: Self.tokenView(client), for: request)
                    let address = base + "?shown=\(view)"
                    return (address, .seeOther(address))
                case .failure(let error):
                    let message = error.code == "invalid_request" ? "Tick at least one scope for the token." : error.description
                    return (nil, try await page(request, context, client, person: signedIn.person, token: nil, error: message,
                                                formToken: form[PageOnce.formField], status: .badRequest))
                }
            }
        }
        routes.post("/:client_id/developer-token/revoke", .pageSpending(.clientsChange)) { request, context in
            guard let signedIn = context.signedIn else { return ClientPagesController.signInFirst(request) }
            let client = try await management.manageable(try context.parameters.require("client_id"), by: signedIn.person)
            let form = try await csrf.checkedForm(request)
            // The dialog names the token it showed, so a newer one made meanwhile is not revoked by it.
            let shown = form["grant_id"].flatMap { $0.isEmpty ? nil : GrantID(rawValue: $0) }
            let revoked = try await developerTokens.revokeCurrent(
                client: client.clientID, person: signedIn.person.id.subject, grantID: shown, now: clock.now
            )
            return .seeOther("/developer-tools/oauth/\(client.id)?done=\(revoked ? "token-revoked" : "no-token")")
        }
        routes.get("/:client_id/revoke-token", .page) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            let client = try await management.manageable(try context.parameters.require("client_id"), by: person)
            let notice: String? = switch request.uri.queryParameters["done"] {
            case "revoked": "The token was revoked."
            default: nil
            }
            return pages.render("devtools-revoke-token", ["app": ClientPagesController.appView(client), "notice": notice as Any],
                                request: request, context: context, noStore: true)
        }
        routes.post("/:client_id/revoke-token", .pageSpending(.clientsChange)) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            let client = try await management.manageable(try context.parameters.require("client_id"), by: person)
            let form = try await csrf.checkedForm(request)
            let pasted = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let problem: String
            if pasted.isEmpty || pasted.utf8.count > 8192 {
                problem = "Paste the token to revoke."
            } else {
                switch try await revocations.revoke(pasted, of: client.clientID) {
                case .revoked: return .seeOther("/developer-tools/oauth/\(client.id)/revoke-token?done=revoked")
                case .anotherApp: problem = "This token belongs to another app; nothing was revoked."
                case .unknown: problem = "This is not a token of this portal (or it has long expired); nothing was revoked."
                }
            }
            return pages.render("devtools-revoke-token", ["app": ClientPagesController.appView(client), "error": problem],
                                request: request, context: context, status: .badRequest, noStore: true)
        }
    }

    /// What a kept token is for: this app's token dialog, and no other.
    static func tokenView(_ client: RegisteredClient) -> String { "developer token " + client.clientID.rawValue }

    private func page(_ request: Request, _ context: AppRequestContext, _ client: RegisteredClient, person: Person, token: String?,
                      error: String? = nil, formToken: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        var data: [String: Any] = [
            "app": ClientPagesController.appView(client), "formToken": formToken ?? PageOnce.formToken(),
            "scopes": client.scopes.map { name in
                ["name": name, "label": ScopeCatalog.scope(named: name)?.description ?? name]
            },
        ]
        if let current = try await developerTokens.current(client: client.clientID, person: person.id.subject, now: clock.now) {
            data["current"] = [
                "created": RFC3339.string(current.createdAt), "expires": RFC3339.string(current.expiresAt),
                "scopes": current.scopes.joined(separator: " "), "grantID": current.grantID.rawValue,
            ]
        }
        if let token { data["token"] = token }
        if let error { data["error"] = error }
        return pages.render("devtools-developer-token", data, request: request, context: context, status: status, noStore: true)
    }
}
