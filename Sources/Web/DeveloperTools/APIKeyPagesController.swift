import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// Settings › Developer Tools › API keys (SPEC §7): the list with each key's state, and a form that
/// makes one with All, Read only or Restricted permissions and an optional lifetime, showing the new
/// key once. Works without JavaScript; the same rules as the REST API (`APIKeyManagement`).
struct APIKeyPagesController {
    let management: APIKeyManagement
    let pages: Pages
    let csrf: CSRFProtection
    let once: PageOnce

    /// The permission groups of the Restricted choice, with their labels.
    static let groups: [(label: String, group: String)] = [
        ("My profile", "accounts.self"), ("Accounts", "accounts"), ("Files and folders", "files"), ("Rooms", "rooms"),
    ]

    func addRoutes(to routes: RouteGroup) {
        routes.get("", .page) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            var created: (name: String, secret: String)?
            if let text = try await once.take(request.uri.queryParameters["shown"].map(String.init), purpose: "new API key", for: request),
               let shown = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)), let name = shown["name"], let secret = shown["secret"] {
                created = (name, secret)
            }
            return try await page(request, context, person: person, created: created)
        }
        routes.post("", .page) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            let form = try await csrf.checkedForm(request)
            // Post/Redirect/Get: the list shows the new key once; the same form sent twice makes one key.
            return try await once.once(formToken: form[PageOnce.formField], request: request, otherwise: "/developer-tools/api-keys") {
                do {
                    let days = try Self.days(form["days"])
                    let made = try await management.create(name: form["name"] ?? "", permissions: Self.permissions(form), lifetimeDays: days,
                                                           by: person)
                    let shown = try JSONEncoder().encode(["name": made.key.name, "secret": made.secret])
                    let view = try await once.keep(String(decoding: shown, as: UTF8.self), purpose: "new API key", for: request)
                    let page = "/developer-tools/api-keys?shown=\(view)"
                    return (page, .seeOther(page))
                } catch let error as AppError where error.status == .badRequest {
                    return (nil, try await page(request, context, person: person, error: error.detail, formToken: form[PageOnce.formField],
                                                status: .badRequest))
                }
            }
        }
        routes.post("/:id/activation", .page) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            let form = try await csrf.checkedForm(request)
            _ = try await management.update(try context.parameters.require("id"), name: nil, permissions: nil,
                                            isActive: form["status"] == "true", by: person)
            return .seeOther("/developer-tools/api-keys")
        }
        routes.post("/:id/delete", .page) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            _ = try await csrf.checkedForm(request)
            _ = try await management.delete(try context.parameters.require("id"), by: person)
            return .seeOther("/developer-tools/api-keys?deleted=1")
        }
    }

    /// The permissions the form asks for: every scope, the read scopes, or the boxes ticked.
    static func permissions(_ form: FormFields) -> [String] {
        switch form["access"] {
        case "read": ["*:read"]
        case "restricted": form.all("permissions")
        default: ["*"]
        }
    }

    static func days(_ text: String?) throws -> Int? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let days = Int(text) else { throw AppError.badRequest(APIKeyRules.Problem.lifetime.message) }
        return days
    }

    private func page(_ request: Request, _ context: AppRequestContext, person: Person, created: (name: String, secret: String)? = nil,
                      error: String? = nil, formToken: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let now = management.clock.now
        let keys = try await management.visible(to: person).map { key, creator -> [String: Any] in
            [
                "id": key.id, "name": key.name, "masked": key.masked, "created": RFC3339.string(key.createdAt),
                "lastUsed": key.lastUsed.map(RFC3339.string) ?? "Never", "creator": creator.displayName,
                "permissions": key.permissions.joined(separator: ", "), "active": key.isActive,
                "expired": key.isExpired(at: now),
            ]
        }
        var data: [String: Any] = [
            "hasKeys": !keys.isEmpty, "keys": keys, "canCreate": person.role != .guest,
            "groups": Self.groups.map { ["label": $0.label, "read": $0.group + ":read", "write": $0.group + ":write"] },
            "formToken": formToken ?? PageOnce.formToken(),
        ]
        if let created { data["created"] = ["name": created.name, "secret": created.secret] }
        if let error { data["error"] = error }
        if request.uri.queryParameters["deleted"] != nil { data["notice"] = "The key was deleted." }
        return pages.render("devtools-api-keys", data, request: request, context: context, status: status, noStore: true)
    }
}
