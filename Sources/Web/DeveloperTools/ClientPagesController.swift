import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// The pages of Developer Tools › OAuth 2.0 (SPEC §2): the app list, the registration form and an
/// app's details with edit, regenerate, enable/disable and delete. Plain forms with CSRF tokens;
/// JavaScript only adds comfort (and scales a picked picture to 32×32).
struct ClientPagesController {
    let management: ClientManagement
    let pages: Pages
    let csrf: CSRFProtection
    let issuer: String
    let once: PageOnce
    /// Whose apps they are, for the list's Creator column.
    let people: any PersonStore

    /// The largest form accepted: a 256 KB icon, its data-URI copy and the text fields.
    static let formLimit = 1024 * 1024
    /// The most parts the form may have: its dozen fields and one part a ticked scope.
    static let maximumParts = 64

    func addRoutes(to routes: RouteGroup) {
        routes.get("", .page) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            return try await list(request, context, person: person, notice: nil)
        }
        routes.get("/guide", .page) { request, context in
            guard context.signedIn != nil else { return Self.signInFirst(request) }
            return pages.render("devtools-guide", ["endpoints": endpoints], request: request, context: context)
        }
        routes.get("/audit", .page) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            guard person.role.isAdministrator else { throw AppError.forbidden("Only admins may read the audit log.") }
            let query = request.uri.queryParameters
            let (filter, limit) = try ClientsAPIController.auditFilter(query)
            let entries = try await management.store.auditLog(filter, limit: limit)
            let value = { (name: String) in query[Substring(name)].map(String.init) ?? "" }
            return pages.render("devtools-audit", [
                "clientID": value("client_id"), "actorID": value("actor_id"), "since": value("since"), "until": value("until"),
                "actions": ClientAuditAction.allCases.map { ["name": $0.rawValue, "selected": $0.rawValue == value("action")] },
                "hasEntries": !entries.isEmpty,
                "entries": entries.map {
                    ["at": RFC3339.string($0.at), "action": $0.action.rawValue, "clientID": $0.clientID.rawValue, "actorID": $0.actorID,
                     "details": $0.details]
                },
            ], request: request, context: context)
        }
        routes.get("/new", .page) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            guard person.role != .guest else { throw AppError.forbidden("Guests cannot register apps.") }
            var view = FormValues.empty.view(action: "/developer-tools/oauth/new", submitLabel: "Save")
            view["formToken"] = PageOnce.formToken()
            return pages.render("devtools-new", ["form": view], request: request, context: context)
        }
        routes.post("/new", .pageSpending(.clientsPost)) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            let form = try await checkedForm(request)
            let (input, values) = Self.input(from: form, current: nil)
            // Post/Redirect/Get: the app's page shows the secret once; the same form sent twice makes one app.
            return try await once.once(formToken: form[PageOnce.formField], request: request, otherwise: "/developer-tools/oauth") {
                do {
                    let made = try await management.create(input, by: person)
                    let id = made.client.id
                    let view = try await once.keep(made.secret, purpose: Self.secretView(id), for: request)
                    let page = "/developer-tools/oauth/\(id)?shown=\(view)&done=registered"
                    return (page, .seeOther(page))
                } catch AppError.validation(let errors) {
                    var view = values.view(action: "/developer-tools/oauth/new", submitLabel: "Save", errors: errors.errors)
                    view["formToken"] = form[PageOnce.formField]
                    return (nil, pages.render("devtools-new", ["form": view], request: request, context: context, status: .badRequest))
                }
            }
        }
        routes.get("/:client_id", .page) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            let client = try await management.manageable(try context.parameters.require("client_id"), by: person)
            let query = request.uri.queryParameters
            let secret = try await once.take(query["shown"].map(String.init), purpose: Self.secretView(client.id), for: request)
            let notice: String? = switch query["done"] {
            case "registered": secret == nil ? "The app was registered. Its secret was shown once; regenerate it if it is lost." : "The app was registered."
            case "saved": "Your changes were saved."
            case "regenerated": secret == nil ? "A new secret was made; it was shown once." : "A new secret was made; the old one no longer works."
            case "token-revoked": "Your developer token for this app was revoked."
            case "no-token": "You had no developer token for this app (or a newer one replaced the one shown); nothing was revoked."
            default: nil
            }
            return details(request, context, client, secret: secret, notice: notice)
        }
        routes.post("/:client_id", .pageSpending(.clientsChange)) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            let id = try context.parameters.require("client_id")
            let current = try await management.manageable(id, by: person)
            let form = try await checkedForm(request)
            let (input, values) = Self.input(from: form, current: current)
            do {
                let client = try await management.update(id, input, by: person)
                return .seeOther("/developer-tools/oauth/\(client.id)?done=saved")
            } catch AppError.validation(let errors) {
                return details(request, context, current, secret: nil, notice: nil, form: values, errors: errors.errors, status: .badRequest)
            }
        }
        routes.post("/:client_id/regenerate", .pageSpending(.clientsChange)) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            _ = try await csrf.checkedForm(request)
            let made = try await management.regenerateSecret(try context.parameters.require("client_id"), by: person)
            let id = made.client.id
            let view = try await once.keep(made.secret, purpose: Self.secretView(id), for: request)
            return .seeOther("/developer-tools/oauth/\(id)?shown=\(view)&done=regenerated")
        }
        // Several apps at once (SPEC §7): enable, disable, or delete after a confirmation.
        routes.post("/selected", .pageSpending(.clientsChange)) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            let form = try await csrf.checkedForm(request)
            let ids = Array(Set(form.all("client_id"))).prefix(200)
            guard !ids.isEmpty else { return .seeOther("/developer-tools/oauth?done=none-selected") }
            var apps: [RegisteredClient] = []
            for id in ids { apps.append(try await management.manageable(id, by: person)) }
            switch form["action"] {
            case "enable", "disable":
                for app in apps { _ = try await management.setEnabled(app.id, form["action"] == "enable", by: person) }
                return .seeOther("/developer-tools/oauth?done=\(form["action"] == "enable" ? "enabled" : "disabled")&count=\(apps.count)")
            case "delete" where form["confirm"] == "yes":
                for app in apps { try await management.delete(app.id, by: person) }
                return .seeOther("/developer-tools/oauth?done=deleted&count=\(apps.count)")
            case "delete":
                return pages.render("devtools-delete-selected", ["apps": apps.map(Self.appView), "count": apps.count],
                                    request: request, context: context)
            default:
                throw AppError.badRequest("Choose Enable, Disable or Delete for the selected apps.")
            }
        }
        routes.post("/:client_id/activation", .pageSpending(.clientsChange)) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            let form = try await csrf.checkedForm(request)
            let client = try await management.setEnabled(try context.parameters.require("client_id"), form["status"] == "true", by: person)
            if form["return_to"] == "list" { return .seeOther("/developer-tools/oauth") }
            return .seeOther("/developer-tools/oauth/\(client.id)")
        }
        routes.get("/:client_id/auth-button", .page) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            let client = try await management.manageable(try context.parameters.require("client_id"), by: person)
            // A fresh PKCE pair on every showing.
            return pages.render("devtools-auth-button", ["app": Self.appView(client), "button": AuthButton(issuer: issuer, client: client).view],
                                request: request, context: context, noStore: true)
        }
        routes.get("/:client_id/delete", .page) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            let client = try await management.manageable(try context.parameters.require("client_id"), by: person)
            return pages.render("devtools-delete", ["app": Self.appView(client)], request: request, context: context)
        }
        routes.post("/:client_id/delete", .pageSpending(.clientsChange)) { request, context in
            guard let person = context.signedIn?.person else { return Self.signInFirst(request) }
            _ = try await csrf.checkedForm(request)
            try await management.delete(try context.parameters.require("client_id"), by: person)
            return .seeOther("/developer-tools/oauth?deleted=1")
        }
    }

    /// The authorization server's addresses an app's developer needs (RFC 8414 §2), as the app page shows them.
    var endpoints: [String: String] {
        [
            "issuer": issuer, "discovery": issuer + "/.well-known/openid-configuration", "authorize": issuer + "/oauth2/authorize",
            "token": issuer + "/oauth2/token",
        ]
    }

    /// What a kept secret is for: this app's page, and no other.
    static func secretView(_ clientID: String) -> String { "client secret " + clientID }

    static func signInFirst(_ request: Request) -> Response {
        let path = request.uri.string
        let escaped = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
        return .found("/login?redirect=\(escaped)")
    }

    private func checkedForm(_ request: Request) async throws -> MultipartForm {
        let form = try await MultipartForm.read(request, limit: Self.formLimit, maximumParts: Self.maximumParts)
        guard csrf.verify(form[CSRFProtection.fieldName], request: request) else { throw CSRFProtection.staleForm }
        return form
    }

    private func list(_ request: Request, _ context: AppRequestContext, person: Person, notice: String?) async throws -> Response {
        let apps = try await management.list(for: person, after: nil, limit: 200)
        var creators: [String: String] = [:]
        for id in Set(apps.filter { !$0.registrar.isSelfAsserted }.map(\.createdBy)) {
            creators[id] = try await people.find(id: PersonID(rawValue: id)).map(\.displayName) ?? "Removed person"
        }
        let rows: [[String: Any]] = apps.map { app in
            var row = Self.appView(app)
            row["creator"] = switch app.registrar {
            case .person: creators[app.createdBy] ?? ""
            case .app: "Registered by the app itself"
            case .document: "Known by its metadata document"
            }
            row["modified"] = Self.day(app.modifiedOn)
            row["modifiedISO"] = RFC3339.string(app.modifiedOn)
            row["scopeTags"] = app.scopes.map { ["name": $0, "label": ScopeCatalog.scope(named: $0)?.description ?? $0] }
            return row
        }
        var data: [String: Any] = ["apps": rows, "hasApps": !apps.isEmpty, "canRegister": person.role != .guest]
        let query = request.uri.queryParameters
        let count = Int(query["count"].map(String.init) ?? "") ?? 1
        let apps1 = count == 1 ? "1 app was" : "\(count) apps were"
        if query["deleted"] == "1" { data["notice"] = "The app was deleted." }
        switch query["done"] {
        case "enabled": data["notice"] = "\(apps1) enabled."
        case "disabled": data["notice"] = "\(apps1) disabled; their tokens no longer work."
        case "deleted": data["notice"] = "\(apps1) deleted."
        case "none-selected": data["notice"] = "Select one or more apps first."
        default: break
        }
        return pages.render("devtools-list", data, request: request, context: context)
    }

    /// A date as the list shows it (UTC).
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(months[(parts.month ?? 1) - 1]) \(parts.day ?? 1), \(parts.year ?? 1970)"
    }

    private func details(
        _ request: Request, _ context: AppRequestContext, _ client: RegisteredClient, secret: String?, notice: String?,
        form: FormValues? = nil, errors: [FieldError] = [], status: HTTPResponse.Status = .ok
    ) -> Response {
        let values = form ?? FormValues(client)
        var view = values.view(
            action: "/developer-tools/oauth/\(client.id)", submitLabel: "Save changes", errors: errors
        )
        view["keepsLogo"] = true
        if (view["logoPreview"] as? String)?.isEmpty ?? true { view["logoPreview"] = ClientIcons.path(for: client) }
        var data: [String: Any] = ["app": Self.appView(client), "form": view, "endpoints": endpoints]
        if let secret { data["secret"] = secret }
        if let notice { data["notice"] = notice }
        return pages.render("devtools-details", data, request: request, context: context, status: status, noStore: true)
    }

    static func appView(_ client: RegisteredClient) -> [String: Any] {
        [
            "clientID": client.id, "publicClientID": client.clientID.rawValue, "name": client.name, "enabled": client.enabled,
            "isDocument": client.registrar == .document, "documentURL": client.clientID.rawValue,
            "iconPath": ClientIcons.path(for: client), "methods": client.authenticationMethods.joined(separator: ", "),
            "scopes": client.scopes.joined(separator: " "), "selfRegistered": client.registrar.isSelfAsserted,
            "publicOnly": client.isPublicOnly,
        ]
    }

    /// The registration a form describes, and the values to show again if it is refused.
    static func input(from form: MultipartForm, current: RegisteredClient?) -> (ClientRegistrationInput, FormValues) {
        typealias Field = ClientSettings.Field
        func text(_ field: Field) -> String { form[field.rawValue] ?? "" }
        func list(_ field: Field) -> [String] { form.all(field.rawValue).filter { !$0.isEmpty } }
        var values = FormValues.empty
        values.settings = ClientSettings(
            name: text(.name), description: text(.description), websiteURL: text(.websiteURL), allowPKCE: text(.allowPKCE) == "true",
            redirectURIs: list(.redirectURIs), allowedOrigins: list(.allowedOrigins), scopes: list(.scopes), policyURL: text(.policyURL),
            termsURL: text(.termsURL), logoutRedirectURI: text(.logoutRedirectURI)
        )
        var input = ClientRegistrationInput(values.settings)
        if let file = form.file("logo") {
            input.logo = .upload(file.data, declaredType: file.filename)
            // Keep a valid upload across a refused submission, so it need not be picked again.
            if case .success(let icon) = Icon.validate(file.data, declaredType: file.filename) { values.logoData = icon.dataURI }
        } else if let kept = form["logo_data"], !kept.isEmpty {
            input.logo = .dataURI(kept)
            values.logoData = kept
        } else if current != nil {
            input.logo = nil  // the update keeps the current icon
        } else {
            input.logo = .dataURI("")
        }
        return (input, values)
    }
}

/// What the registration form shows.
@dynamicMemberLookup
struct FormValues {
    /// The settings as the person typed them (or as the app has them).
    var settings = ClientSettings.empty
    /// An icon kept across a refused submission, as a `data:` URI.
    var logoData = ""
    /// An app that registered itself: website, policy, terms and origins are optional (SPEC §6).
    var relaxed = false

    static let empty = FormValues()

    init() {}

    init(_ client: RegisteredClient) {
        settings = client.settings
        relaxed = client.registrar.isSelfAsserted
    }

    subscript<Value>(dynamicMember keyPath: WritableKeyPath<ClientSettings, Value>) -> Value {
        get { settings[keyPath: keyPath] }
        set { settings[keyPath: keyPath] = newValue }
    }

    static let groupLabels = [
        "profiles": "Profile", "accounts": "Accounts", "files": "Files & Folders", "rooms": "Rooms", "openid": "Open ID",
    ]

    func view(action: String, submitLabel: String, errors: [FieldError] = []) -> [String: Any] {
        typealias Field = ClientSettings.Field
        var messages: [String: String] = [:]
        for error in errors { messages[error.field] = [messages[error.field], error.message].compactMap { $0 }.joined(separator: " ") }
        var groups: [[String: Any]] = []
        for group in ["profiles", "accounts", "files", "rooms", "openid"] {
            let members = ScopeCatalog.all.filter { $0.group == group }
            guard let read = members.first(where: { $0.type != .write }) else { continue }
            var row: [String: Any] = [
                "group": group, "label": Self.groupLabels[group] ?? group, "readName": read.name,
                "readDescription": read.description, "readChecked": settings.scopes.contains(read.name),
            ]
            if let write = members.first(where: { $0.type == .write }) {
                row["writeName"] = write.name
                row["writeChecked"] = settings.scopes.contains(write.name)
            }
            groups.append(row)
        }
        return [
            "action": action, "submitLabel": submitLabel, "hasErrors": !errors.isEmpty, "errors": messages,
            Field.name.rawValue: settings.name, Field.description.rawValue: settings.description,
            Field.websiteURL.rawValue: settings.websiteURL, Field.policyURL.rawValue: settings.policyURL,
            Field.termsURL.rawValue: settings.termsURL, Field.logoutRedirectURI.rawValue: settings.logoutRedirectURI ?? "",
            Field.allowPKCE.rawValue: settings.allowPKCE,
            Field.redirectURIs.rawValue: (settings.redirectURIs.isEmpty ? [""] : settings.redirectURIs).map { ["value": $0] },
            Field.allowedOrigins.rawValue: (settings.allowedOrigins.isEmpty ? [""] : settings.allowedOrigins).map { ["value": $0] },
            // No picture yet: no preview address at all (an empty `src` is a broken image; mustache takes "" as true).
            "relaxed": relaxed,
            "scopeGroups": groups, "logoData": logoData, "logoPreview": logoData.isEmpty ? false : logoData,
        ]
    }
}
