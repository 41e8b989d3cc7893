import Foundation
import Hummingbird
import HummingbirdCore
import OAuthCore
import PortalCore

/// The REST API of Developer Tools › OAuth 2.0 (SPEC §2): `/api/2.0/clients…` and `/api/2.0/scopes`,
/// with DocSpace's paths and snake_case JSON. Callers are signed in to the portal (cookie or portal
/// token); OAuth access tokens never reach these routes (they are not portal sessions).
struct ClientsAPIController {
    let management: ClientManagement
    let icons: ClientIcons

    /// An app as the API shows it.
    struct ClientResponse: Encodable {
        /// SPEC §6: the id in the clients API's paths (for apps registered here, the client id).
        let id: String
        let client_id: String
        let name: String
        let description: String
        let logo: String
        let website_url: String
        let terms_url: String
        let policy_url: String
        let logout_redirect_uri: String?
        let redirect_uris: [String]
        let allowed_origins: [String]
        let scopes: [String]
        let allow_pkce: Bool
        let is_public: Bool
        let enabled: Bool
        let authentication_methods: [String]
        let created_on: Date
        let created_by: String
        let modified_on: Date
        let modified_by: String
        let client_secret: String?
        /// Who registered it: `person` (the form or this API) or `app` (RFC 7591, SPEC §6).
        let registered_by: String

        init(_ client: RegisteredClient, logoURL: String, secret: String? = nil) {
            id = client.id
            client_id = client.clientID.rawValue
            name = client.name
            description = client.description
            logo = logoURL
            website_url = client.websiteURL
            terms_url = client.termsURL
            policy_url = client.policyURL
            logout_redirect_uri = client.logoutRedirectURI
            redirect_uris = client.redirectURIs
            allowed_origins = client.allowedOrigins
            scopes = client.scopes
            allow_pkce = client.allowPKCE
            is_public = client.allowPKCE || client.isPublicOnly
            enabled = client.enabled
            authentication_methods = client.authenticationMethods
            created_on = client.createdOn
            created_by = client.createdBy
            modified_on = client.modifiedOn
            modified_by = client.modifiedBy
            client_secret = secret
            registered_by = client.registrar.rawValue
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(client_id, forKey: .client_id)
            try container.encode(name, forKey: .name)
            try container.encode(description, forKey: .description)
            try container.encode(logo, forKey: .logo)
            try container.encode(website_url, forKey: .website_url)
            try container.encode(terms_url, forKey: .terms_url)
            try container.encode(policy_url, forKey: .policy_url)
            try container.encode(logout_redirect_uri, forKey: .logout_redirect_uri)
            try container.encode(redirect_uris, forKey: .redirect_uris)
            try container.encode(allowed_origins, forKey: .allowed_origins)
            try container.encode(scopes, forKey: .scopes)
            try container.encode(allow_pkce, forKey: .allow_pkce)
            try container.encode(is_public, forKey: .is_public)
            try container.encode(enabled, forKey: .enabled)
            try container.encode(authentication_methods, forKey: .authentication_methods)
            try container.encode(created_on, forKey: .created_on)
            try container.encode(created_by, forKey: .created_by)
            try container.encode(modified_on, forKey: .modified_on)
            try container.encode(modified_by, forKey: .modified_by)
            try container.encodeIfPresent(client_secret, forKey: .client_secret)
            try container.encode(registered_by, forKey: .registered_by)
        }

        enum CodingKeys: String, CodingKey {
            case id, client_id, name, description, logo, website_url, terms_url, policy_url, logout_redirect_uri,
                 redirect_uris, allowed_origins, scopes, allow_pkce, is_public, enabled, authentication_methods,
                 created_on, created_by, modified_on, modified_by, client_secret, registered_by
        }
    }

    struct ListResponse: Encodable {
        let data: [ClientResponse]
        let limit: Int
        let last_client_id: String?
        let last_created_on: Date?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(data, forKey: .data)
            try container.encode(limit, forKey: .limit)
            try container.encode(last_client_id, forKey: .last_client_id)
            try container.encode(last_created_on, forKey: .last_created_on)
        }

        enum CodingKeys: String, CodingKey { case data, limit, last_client_id, last_created_on }
    }

    struct PublicInfo: Encodable {
        let client_id: String
        let name: String
        let description: String
        let logo: String
        let website_url: String
        let policy_url: String
        let terms_url: String
        let scopes: [String]
    }

    struct SecretResponse: Encodable { let client_secret: String }

    struct ScopeResponse: Encodable {
        let name: String
        let type: String
        let group: String
    }

    struct AuditResponse: Encodable {
        let data: [Entry]
        struct Entry: Encodable {
            let id: Int
            let client_id: String
            let action: String
            let actor_id: String
            let at: Date
            let details: String
        }
    }

    /// The audit filters of a query (`client_id`, `actor_id`, `action`, `since`, `until`, `limit`), shared
    /// by the API and the admin page; 400 naming the parameter at fault.
    static func auditFilter(_ query: FlatDictionary<Substring, Substring>) throws -> (filter: ClientAuditFilter, limit: Int) {
        var filter = ClientAuditFilter()
        filter.clientID = query["client_id"].flatMap { $0.isEmpty ? nil : ClientID(normalizing: String($0)) }
        filter.actorID = query["actor_id"].flatMap { $0.isEmpty ? nil : String($0) }
        if let action = query["action"], !action.isEmpty {
            guard let parsed = ClientAuditAction(rawValue: String(action)) else {
                throw AppError.badRequest("action must be one of \(ClientAuditAction.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            filter.action = parsed
        }
        for (name, keyPath) in [("since", \ClientAuditFilter.since), ("until", \ClientAuditFilter.until)] {
            if let text = query[Substring(name)], !text.isEmpty {
                guard let date = Self.parseDate(String(text)) else { throw AppError.badRequest("\(name) must be an ISO-8601 date.") }
                filter[keyPath: keyPath] = date
            }
        }
        let limit = query["limit"].flatMap { Int(String($0)) }.map { min(max($0, 1), 500) } ?? 100
        return (filter, limit)
    }

    func addRoutes(to routes: RouteGroup) {
        routes.get("/scopes", .api(oauth: nil)) { _, _ in
            try JSONResponse.make(ScopeCatalog.all.map { ScopeResponse(name: $0.name, type: $0.type.rawValue, group: $0.group) })
        }
        routes.post("/clients", .api(oauth: nil, budget: .clientsPost)) { request, context in
            let person = try requireSignedIn(context).person
            let input = try await Self.registrationInput(from: request)
            let made = try await management.create(input, by: person)
            context.logger.info("app registered", metadata: ["client_id": "\(made.client.clientID)"])
            return try JSONResponse.make(ClientResponse(made.client, logoURL: icons.url(for: made.client), secret: made.secret), status: .created)
        }
        routes.get("/clients", .api(oauth: nil, budget: .clientsRead)) { request, context in
            let person = try requireSignedIn(context).person
            let query = request.uri.queryParameters
            var limit = 30
            if let text = query["limit"] {
                guard let number = Int(String(text)), (1...50).contains(number) else {
                    throw AppError.badRequest("limit must be a whole number from 1 to 50.")
                }
                limit = number
            }
            var cursor: ClientPageCursor?
            if let lastID = query["last_client_id"].map(String.init), !lastID.isEmpty {
                guard let text = query["last_created_on"].map(String.init), let createdOn = Self.parseDate(text) else {
                    throw AppError.badRequest("last_client_id needs last_created_on as an ISO-8601 date.")
                }
                cursor = ClientPageCursor(createdOn: createdOn, clientID: ClientID(normalizing: lastID))
            }
            let page = try await management.list(for: person, after: cursor, limit: limit)
            let last = page.count == limit ? page.last : nil
            return try JSONResponse.make(ListResponse(
                data: page.map { ClientResponse($0, logoURL: icons.url(for: $0)) }, limit: limit,
                last_client_id: last?.clientID.rawValue, last_created_on: last?.createdOn
            ))
        }
        routes.get("/clients/audit", .api(oauth: nil, budget: .clientsRead)) { request, context in
            let person = try requireSignedIn(context).person
            guard person.role.isAdministrator else { throw AppError.forbidden("Only admins may read the audit log.") }
            let (filter, limit) = try Self.auditFilter(request.uri.queryParameters)
            let entries = try await management.store.auditLog(filter, limit: limit)
            return try JSONResponse.make(AuditResponse(data: entries.map {
                .init(id: $0.id, client_id: $0.clientID.rawValue, action: $0.action.rawValue, actor_id: $0.actorID, at: $0.at, details: $0.details)
            }))
        }
        routes.get("/clients/:client_id", .api(oauth: nil, budget: .clientsRead)) { _, context in
            let person = try requireSignedIn(context).person
            let client = try await management.manageable(try context.parameters.require("client_id"), by: person)
            return try JSONResponse.make(ClientResponse(client, logoURL: icons.url(for: client)))
        }
        routes.put("/clients/:client_id", .api(oauth: nil, budget: .clientsChange)) { request, context in
            let person = try requireSignedIn(context).person
            let id = try context.parameters.require("client_id")
            _ = try await management.manageable(id, by: person)
            let input = try await Self.registrationInput(from: request)
            let client = try await management.update(id, input, by: person)
            return try JSONResponse.make(ClientResponse(client, logoURL: icons.url(for: client)))
        }
        routes.patch("/clients/:client_id/regenerate", .api(oauth: nil, budget: .clientsChange)) { _, context in
            let person = try requireSignedIn(context).person
            let made = try await management.regenerateSecret(try context.parameters.require("client_id"), by: person)
            return try JSONResponse.make(SecretResponse(client_secret: made.secret))
        }
        routes.patch("/clients/:client_id/activation", .api(oauth: nil, budget: .clientsChange)) { request, context in
            let person = try requireSignedIn(context).person
            let id = try context.parameters.require("client_id")
            _ = try await management.manageable(id, by: person)
            let object = try await Self.jsonObject(from: request)
            guard let status = object.booleans["status"] else {
                throw AppError.validation(FieldErrors([FieldError(field: "status", code: .emptyField, message: "status must be true or false.")]))
            }
            let client = try await management.setEnabled(id, status, by: person)
            return try JSONResponse.make(ClientResponse(client, logoURL: icons.url(for: client)))
        }
        routes.delete("/clients/:client_id", .api(oauth: nil, budget: .clientsChange)) { _, context in
            let person = try requireSignedIn(context).person
            try await management.delete(try context.parameters.require("client_id"), by: person)
            return Response(status: .noContent)
        }
        routes.get("/clients/:client_id/public/info", .api(oauth: nil, budget: .clientsRead)) { _, context in
            let id = try context.parameters.require("client_id")
            guard let client = try await management.store.find(managedID: id),
                  client.enabled
            else { throw AppError.notFound }
            return try JSONResponse.make(PublicInfo(
                client_id: client.clientID.rawValue, name: client.name, description: client.description,
                logo: icons.url(for: client), website_url: client.websiteURL, policy_url: client.policyURL,
                terms_url: client.termsURL, scopes: client.scopes
            ))
        }
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// A JSON object body: its values, and which of them are true JSON booleans (JSONSerialization
    /// turns `1` and `true` into the same number, so booleans are read again with JSONDecoder).
    struct JSONObject {
        let values: [String: Any]
        let booleans: [String: Bool]
    }

    /// The body as a JSON object; 415 for another type, 400 for anything but an object.
    static func jsonObject(from request: Request) async throws -> JSONObject {
        guard RequestBody.mediaType(request) == "application/json" else {
            throw AppError.unsupportedMediaType(expected: "application/json")
        }
        let data = Data(buffer: try await RequestBody.collect(request, limit: 512 * 1024))
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw AppError.badRequest("The body is not valid JSON.")
        }
        guard let dictionary = object as? [String: Any] else { throw AppError.badRequest("The body must be a JSON object.") }
        let booleans = (try? JSONDecoder().decode(BooleanFields.self, from: data))?.values ?? [:]
        return JSONObject(values: dictionary, booleans: booleans)
    }

    /// Every top-level field whose value is `true` or `false`.
    struct BooleanFields: Decodable {
        let values: [String: Bool]

        struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            var values: [String: Bool] = [:]
            for key in container.allKeys {
                if let flag = try? container.decode(Bool.self, forKey: key) { values[key.stringValue] = flag }
            }
            self.values = values
        }
    }

    /// Reads a registration from JSON, naming each field that has the wrong type.
    static func registrationInput(from request: Request) async throws -> ClientRegistrationInput {
        let body = try await jsonObject(from: request)
        let object = body.values
        var errors: [FieldError] = []
        func string(_ key: String) -> String? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            guard let text = value as? String else {
                errors.append(FieldError(field: key, code: .pattern, message: "\(key) must be a string."))
                return nil
            }
            return text
        }
        func strings(_ key: String) -> [String]? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            guard let list = value as? [Any], list.allSatisfy({ $0 is String }) else {
                errors.append(FieldError(field: key, code: .pattern, message: "\(key) must be a list of strings."))
                return nil
            }
            return list.compactMap { $0 as? String }
        }
        typealias Field = ClientSettings.Field
        var input = ClientRegistrationInput()
        input.name = string(Field.name.rawValue)
        input.description = string(Field.description.rawValue)
        input.websiteURL = string(Field.websiteURL.rawValue)
        input.policyURL = string(Field.policyURL.rawValue)
        input.termsURL = string(Field.termsURL.rawValue)
        input.logoutRedirectURI = string(Field.logoutRedirectURI.rawValue)
        input.logo = string("logo").map { .dataURI($0) }
        input.redirectURIs = strings(Field.redirectURIs.rawValue)
        input.allowedOrigins = strings(Field.allowedOrigins.rawValue)
        input.scopes = strings(Field.scopes.rawValue)
        if let value = object["allow_pkce"], !(value is NSNull) {
            if let flag = body.booleans["allow_pkce"] {
                input.allowPKCE = flag
            } else {
                errors.append(FieldError(field: "allow_pkce", code: .pattern, message: "allow_pkce must be true or false."))
            }
        }
        if !errors.isEmpty { throw AppError.validation(FieldErrors(errors)) }
        return input
    }
}
