import Foundation

/// What a person submitted for an app (create or update), as received: every field may be missing.
public struct ClientRegistrationInput: Sendable {
    /// How the icon arrived.
    public enum Logo: Sendable {
        /// JSON: a `data:` URI.
        case dataURI(String)
        /// A page's file upload: the bytes and the file name or type the browser sent.
        case upload(Data, declaredType: String?)
        /// An update that keeps the icon the app already has.
        case unchanged(Icon)
    }

    public var name: String?
    public var description: String?
    public var websiteURL: String?
    public var logo: Logo?
    public var allowPKCE: Bool?
    public var redirectURIs: [String]?
    public var allowedOrigins: [String]?
    public var scopes: [String]?
    public var policyURL: String?
    public var termsURL: String?
    public var logoutRedirectURI: String?
    /// An app that registered itself (SPEC §6): website, policy and terms links and allowed origins
    /// may be left out (when given they follow the usual rules), also when an admin edits it.
    public var relaxed = false

    /// An empty registration.
    public init() {}
}

/// A registration that passed every rule, normalized: the settings and the icon.
@dynamicMemberLookup
public struct ValidRegistration: Sendable, Equatable {
    public let settings: ClientSettings
    public let logo: Icon

    public subscript<Value>(dynamicMember keyPath: KeyPath<ClientSettings, Value>) -> Value { settings[keyPath: keyPath] }
}

/// The one validator of app registrations (SPEC §2): every rule, every field, all errors at once.
public enum ClientRegistrationValidator {
    /// Shortest app name (trimmed).
    public static let nameLength = 3...256
    /// Longest description.
    public static let maximumDescription = 255
    /// How many redirect URIs and origins an app may have.
    public static let listCount = 1...12

    /// The normalized app, or every field error found.
    public static func validate(_ input: ClientRegistrationInput) -> Result<ValidRegistration, FieldErrors> {
        var errors: [FieldError] = []
        func error(_ field: String, _ code: FieldErrorCode, _ message: String) {
            errors.append(FieldError(field: field, code: code, message: message))
        }

        // Name: required, 3–256 characters after trimming.
        let name = (input.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty {
            error(ClientSettings.Field.name.rawValue, .emptyField, "App name is required.")
        } else if !nameLength.contains(name.count) {
            error(ClientSettings.Field.name.rawValue, .name, "App name must be \(nameLength.lowerBound) to \(nameLength.upperBound) characters.")
        } else if name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) {
            error(ClientSettings.Field.name.rawValue, .name, "App name must be one line of text.")
        } else if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .format }) {
            // Bidi overrides and zero-width characters would let a name reorder or hide the text around it.
            error(ClientSettings.Field.name.rawValue, .name, "App name must not contain invisible formatting characters (bidi controls, zero-width characters).")
        }

        let description = (input.description ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if description.count > maximumDescription {
            error(ClientSettings.Field.description.rawValue, .pattern, "Description must be at most \(maximumDescription) characters.")
        }

        func webURL(_ value: String?, field: String, label: String) -> String {
            let trimmed = (value ?? "").trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if !input.relaxed { error(field, .emptyField, "\(label) is required.") }
            } else if !URLRules.isAbsoluteWebURL(trimmed) {
                error(field, .wrongURL, "\(label) must be an absolute http or https URL.")
            }
            return trimmed
        }
        let website = webURL(input.websiteURL, field: ClientSettings.Field.websiteURL.rawValue, label: "Website URL")
        let policy = webURL(input.policyURL, field: ClientSettings.Field.policyURL.rawValue, label: "Privacy policy URL")
        let terms = webURL(input.termsURL, field: ClientSettings.Field.termsURL.rawValue, label: "Terms of Service URL")

        // Icon.
        var icon: Icon?
        switch input.logo {
        case nil:
            error("logo", .emptyField, "App icon is required.")
        case .unchanged(let existing):
            icon = existing
        case .dataURI(let uri):
            if uri.isEmpty { error("logo", .emptyField, "App icon is required.") }
            switch Icon.fromDataURI(uri) {
            case .success(let valid): icon = valid
            case .failure(let problem): if !uri.isEmpty { error("logo", .logo, problem.description) }
            }
        case .upload(let bytes, let declaredType):
            switch Icon.validate(bytes, declaredType: declaredType) {
            case .success(let valid): icon = valid
            case .failure(let problem): error("logo", .logo, problem.description)
            }
        }

        // Redirect URIs: exact strings, duplicates removed, 1–12.
        let redirectURIs = unique((input.redirectURIs ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        if redirectURIs.isEmpty {
            error(ClientSettings.Field.redirectURIs.rawValue, .emptyField, "At least one redirect URL is required.")
        } else if redirectURIs.count > listCount.upperBound {
            error(ClientSettings.Field.redirectURIs.rawValue, .pattern, "At most \(listCount.upperBound) redirect URLs are allowed.")
        }
        for uri in redirectURIs.prefix(listCount.upperBound + 1) {
            if let problem = URLRules.redirectURIProblem(uri) {
                error(ClientSettings.Field.redirectURIs.rawValue, .wrongURL, "Redirect URL \(quoted(uri)) \(problem).")
            }
        }

        // Allowed origins: scheme://host[:port], normalized, duplicates removed, 1–12.
        var origins: [String] = []
        for raw in (input.allowedOrigins ?? []).map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
            switch URLRules.normalizedOrigin(raw) {
            case .success(let origin): if !origins.contains(origin) { origins.append(origin) }
            case .failure(.hasMoreThanOrigin):
                error(ClientSettings.Field.allowedOrigins.rawValue, .wrongURL, "Allowed origin \(quoted(raw)) must be scheme://host[:port], without a path, query or fragment.")
            case .failure(.notAnOrigin):
                error(ClientSettings.Field.allowedOrigins.rawValue, .wrongURL, "Allowed origin \(quoted(raw)) must be an http or https origin such as https://app.example.com.")
            }
        }
        if origins.isEmpty, !input.relaxed, !errors.contains(where: { $0.field == ClientSettings.Field.allowedOrigins.rawValue }) {
            error(ClientSettings.Field.allowedOrigins.rawValue, .emptyField, "At least one allowed origin is required.")
        } else if origins.count > listCount.upperBound {
            error(ClientSettings.Field.allowedOrigins.rawValue, .pattern, "At most \(listCount.upperBound) allowed origins are allowed.")
        }

        // Scopes: from the catalog, at least one; write adds read.
        var scopes: [String] = []
        let requested = (input.scopes ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if requested.isEmpty {
            error(ClientSettings.Field.scopes.rawValue, .invalidScope, "Choose at least one access scope.")
        } else {
            switch ScopeSet.normalize(requested) {
            case .success(let set): scopes = set.names
            case .failure(let unknown):
                error(ClientSettings.Field.scopes.rawValue, .invalidScope, "Unknown scope\(unknown.names.count == 1 ? "" : "s"): \(unknown.names.map(quoted).joined(separator: ", ")).")
            }
        }

        // Logout redirect: optional, same rules as a redirect URI.
        let logout = input.logoutRedirectURI?.trimmingCharacters(in: .whitespaces)
        let logoutRedirect = (logout?.isEmpty ?? true) ? nil : logout
        if let logoutRedirect, let problem = URLRules.redirectURIProblem(logoutRedirect) {
            error(ClientSettings.Field.logoutRedirectURI.rawValue, .wrongURL, "Logout redirect URL \(problem).")
        }

        guard errors.isEmpty, let icon else { return .failure(FieldErrors(errors)) }
        return .success(ValidRegistration(settings: ClientSettings(
            name: name, description: description, websiteURL: website, allowPKCE: input.allowPKCE ?? false, redirectURIs: redirectURIs,
            allowedOrigins: origins, scopes: scopes, policyURL: policy, termsURL: terms, logoutRedirectURI: logoutRedirect
        ), logo: icon))
    }

    private static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    private static func quoted(_ value: String) -> String {
        "“" + (value.count > 80 ? String(value.prefix(80)) + "…" : value) + "”"
    }
}
