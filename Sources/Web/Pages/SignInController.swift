import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// `GET /login`, `POST /login` and `POST /logout`: the portal's web sign-in (SPEC §1).
struct SignInController {
    let signIn: SignInService
    let pages: Pages
    let csrf: CSRFProtection
    /// Finds the app an OAuth sign-in is for, to name it on the form.
    let clients: any ClientLookup

    func addRoutes(to routes: Routes) {
        routes.get("/login", .page) { request, context in try await showForm(request, context) }
        routes.post("/login", .page) { request, context in try await submit(request, context) }
        routes.post("/logout", .page) { request, context in try await logout(request, context) }
        routes.get("/", .page) { request, context in try await home(request, context, template: "home", path: "%2F") }
        routes.get("/settings", .page) { request, context in try await home(request, context, template: "settings", path: "%2Fsettings") }
        routes.get("/static/:file", .anyone) { _, context in
            guard let asset = pages.renderer.assets[try context.parameters.require("file")] else { throw AppError.notFound }
            return Response(
                status: .ok,
                headers: [.contentType: asset.contentType, .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: asset.body))
            )
        }
    }

    private func showForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let redirect = request.uri.queryParameters["redirect"].map(String.init)
        // `force=1` (prompt=login, max_age, "not you?") shows the form even to a signed-in person.
        if context.signedIn != nil, request.uri.queryParameters["force"] != "1" {
            return .found(LocalRedirect.resolve(redirect))
        }
        return try await renderForm(request, redirect: redirect, email: "", error: nil, status: .ok)
    }

    private func submit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await csrf.checkedForm(request)
        let email = form["email"] ?? ""
        let redirect = form["redirect"]
        do {
            let opened = try await signIn.signIn(
                email: email, password: form["password"] ?? "", clientAddress: context.clientAddress, kind: .browser
            )
            try await signIn.endSession(of: request, cookie: csrf.cookies.session)
            context.logger.info("signed in", metadata: ["person_id": "\(opened.person.id)"])
            var response = Response.seeOther(LocalRedirect.resolve(redirect))
            response.setCookie(sessionCookie(opened.token, maxAge: Int(opened.session.expiresAt.timeIntervalSince(opened.session.authenticatedAt))))
            return response
        } catch let error as AppError {
            switch error {
            case .badRequest(let message), .unauthorized(let message), .tooManyRequests(_, let message), .busy(_, let message):
                var response = try await renderForm(
                    request, redirect: redirect, email: String(email.prefix(NewPerson.maximumEmailLength)),
                    error: message, status: error.status
                )
                if case .tooManyRequests(let retryAfter, _) = error { response.headers[.retryAfter] = String(retryAfter) }
                if case .busy(let retryAfter, _) = error { response.headers[.retryAfter] = String(retryAfter) }
                return response
            default:
                throw error
            }
        }
    }

    private func logout(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        _ = try await csrf.checkedForm(request)
        try await signIn.endSession(of: request, cookie: csrf.cookies.session)
        var response = Response.seeOther("/login")
        response.setCookie(sessionCookie("", maxAge: 0))
        return response
    }

    /// The home page and Settings: where the signed-in person finds Developer Tools and their authorized apps.
    private func home(_ request: Request, _ context: AppRequestContext, template: String, path: String) async throws -> Response {
        guard let signedIn = context.signedIn else { return .found("/login?redirect=\(path)") }
        let data: [String: Any] = [
            "displayName": signedIn.person.displayName, "email": signedIn.person.email,
            "role": signedIn.person.role.rawValue,
        ]
        return pages.render(template, data, request: request, context: context)
    }

    private func renderForm(_ request: Request, redirect: String?, email: String, error: String?, status: HTTPResponse.Status) async throws
        -> Response
    {
        var data: [String: Any] = ["email": email, "hasEmail": !email.isEmpty, "redirect": LocalRedirect.resolve(redirect)]
        if let error { data["error"] = error }
        if request.uri.queryParameters["type"] == "oauth2" {
            data["forApp"] = true
            if let raw = request.uri.queryParameters["client_id"].map(String.init), let id = ClientID(validating: raw),
               let client = try await clients.find(id), client.enabled {
                data["appName"] = client.name
            }
        }
        return pages.render("login", data, request: request, context: nil, status: status)
    }

    private func sessionCookie(_ value: String, maxAge: Int) -> Cookie { csrf.sessionCookie(value, maxAge: maxAge) }
}
