import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// The apps a person allowed: `GET /api/2.0/clients/consents`, `DELETE /api/2.0/clients/{id}/revoke`
/// and the page `/profile/authorized-apps`. Withdrawing ends the consent and every token of that
/// app for that person, here at once and on every process within a second.
struct ConsentsController {
    let consents: any ConsentStore
    let lookup: any ClientLookup
    let icons: ClientIcons
    let revoker: Revoker
    let pages: Pages
    let csrf: CSRFProtection

    struct ConsentResponse: Encodable {
        let registered_client_id: String
        let scopes: [String]
        let modified_at: Date
        let client: ClientsAPIController.PublicInfo
    }

    struct ListResponse: Encodable { let data: [ConsentResponse] }

    func addRoutes(api: RouteGroup, profile: RouteGroup) {
        api.get("/clients/consents", .api(oauth: nil, budget: .clientsRead)) { _, context in
            let person = try requireSignedIn(context).person
            return try JSONResponse.make(ListResponse(data: try await authorized(person).map { consent, client in
                ConsentResponse(
                    registered_client_id: client.clientID.rawValue, scopes: consent.scopes, modified_at: consent.modifiedAt,
                    client: .init(client_id: client.clientID.rawValue, name: client.name, description: client.description,
                                  logo: icons.url(for: client), website_url: client.websiteURL, policy_url: client.policyURL,
                                  terms_url: client.termsURL, scopes: client.scopes)
                )
            }))
        }
        api.delete("/clients/:client_id/revoke", .api(oauth: nil, budget: .clientsChange)) { _, context in
            let person = try requireSignedIn(context).person
            guard try await withdraw(try context.parameters.require("client_id"), person: person) else { throw AppError.notFound }
            return Response(status: .noContent)
        }
        profile.get("/authorized-apps", .page) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            let formatter = DateFormatter()
            formatter.dateStyle = .medium
            formatter.timeStyle = .short
            let apps: [[String: Any]] = try await authorized(person).map { consent, client in
                [
                    "clientID": client.clientID.rawValue, "name": client.name, "iconPath": ClientIcons.path(for: client),
                    "scopes": Self.labels(consent.scopes), "when": formatter.string(from: consent.modifiedAt),
                ]
            }
            var data: [String: Any] = ["apps": apps, "hasApps": !apps.isEmpty]
            // After a revoke, which app it was (its name, when it is still registered).
            if let revoked = request.uri.queryParameters["revoked"].map(String.init) {
                var name: String?
                if let id = ClientID(validating: revoked) { name = try await lookup.find(id)?.name }
                data["notice"] = name.map { "\u{201C}\($0)\u{201D} can no longer act for you: its access was revoked." } ?? "The app's access was revoked."
            }
            return pages.render("authorized-apps", data, request: request, context: context)
        }
        // Revoking asks first, on a page of its own (no script needed).
        profile.get("/authorized-apps/:client_id/revoke", .page) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            let id = try context.parameters.require("client_id")
            guard let (consent, client) = try await authorized(person).first(where: { $0.1.clientID.rawValue == id }) else { throw AppError.notFound }
            return pages.render("authorized-app-revoke", [
                "app": ["clientID": client.clientID.rawValue, "name": client.name, "iconPath": ClientIcons.path(for: client)],
                "scopes": Self.labels(consent.scopes),
            ], request: request, context: context)
        }
        profile.post("/authorized-apps/:client_id/revoke", .pageSpending(.clientsChange)) { request, context in
            guard let person = context.signedIn?.person else { return ClientPagesController.signInFirst(request) }
            _ = try await csrf.checkedForm(request)
            let id = try context.parameters.require("client_id")
            guard try await withdraw(id, person: person) else { throw AppError.notFound }
            return .seeOther("/profile/authorized-apps?revoked=\(id)")
        }
    }

    /// Scopes with the labels the consent screen shows them with.
    static func labels(_ scopes: [String]) -> [[String: String]] {
        scopes.map { ["name": $0, "label": ScopeCatalog.scope(named: $0)?.description ?? $0] }
    }

    private func authorized(_ person: Person) async throws -> [(Consent, RegisteredClient)] {
        var result: [(Consent, RegisteredClient)] = []
        for consent in try await consents.list(personID: person.id.subject) {
            if let client = try await lookup.find(consent.clientID) { result.append((consent, client)) }
        }
        return result
    }

    private func withdraw(_ rawID: String, person: Person) async throws -> Bool {
        guard let clientID = ClientID(validating: rawID) else { return false }
        return try await revoker.revoke(.consent(clientID, personID: person.id.subject)) { now, expiry in
            try await consents.withdraw(personID: person.id.subject, clientID: clientID, at: now, feedExpiry: expiry)
        }
    }
}
