/// What a person sets for an app (SPEC §2), defined once: the validator produces it, `RegisteredClient`
/// and the store keep it, the update merges into it, and the change log compares it, each field known
/// by the name the API, the forms and the audit log use (`Field`).
public struct ClientSettings: Sendable, Equatable {
    public var name: String
    public var description: String
    public var websiteURL: String
    public var allowPKCE: Bool
    public var redirectURIs: [String]
    public var allowedOrigins: [String]
    public var scopes: [String]
    public var policyURL: String
    public var termsURL: String
    public var logoutRedirectURI: String?

    public init(
        name: String, description: String, websiteURL: String, allowPKCE: Bool, redirectURIs: [String], allowedOrigins: [String],
        scopes: [String], policyURL: String, termsURL: String, logoutRedirectURI: String?
    ) {
        self.name = name
        self.description = description
        self.websiteURL = websiteURL
        self.allowPKCE = allowPKCE
        self.redirectURIs = redirectURIs
        self.allowedOrigins = allowedOrigins
        self.scopes = scopes
        self.policyURL = policyURL
        self.termsURL = termsURL
        self.logoutRedirectURI = logoutRedirectURI
    }

    /// Each field, by its API name (SPEC §2's JSON members, the forms' inputs, the audit log's words).
    public enum Field: String, CaseIterable, Sendable {
        case name, description
        case websiteURL = "website_url"
        case allowPKCE = "allow_pkce"
        case redirectURIs = "redirect_uris"
        case allowedOrigins = "allowed_origins"
        case scopes
        case policyURL = "policy_url"
        case termsURL = "terms_url"
        case logoutRedirectURI = "logout_redirect_uri"
    }

    /// A field's value, for comparing.
    public subscript(field: Field) -> AnyHashable {
        switch field {
        case .name: name
        case .description: description
        case .websiteURL: websiteURL
        case .allowPKCE: allowPKCE
        case .redirectURIs: redirectURIs
        case .allowedOrigins: allowedOrigins
        case .scopes: scopes
        case .policyURL: policyURL
        case .termsURL: termsURL
        case .logoutRedirectURI: logoutRedirectURI
        }
    }

    /// The fields whose values differ from `old`'s, in `Field` order.
    public func changed(from old: ClientSettings) -> [Field] { Field.allCases.filter { self[$0] != old[$0] } }

    /// No app yet: what `RegisteredClient` starts from before a registration is applied.
    public static let empty = ClientSettings(
        name: "", description: "", websiteURL: "", allowPKCE: false, redirectURIs: [], allowedOrigins: [], scopes: [], policyURL: "",
        termsURL: "", logoutRedirectURI: nil
    )
}

extension ClientRegistrationInput {
    /// A whole input carrying `settings` (a form that shows every field), with no icon yet.
    public init(_ settings: ClientSettings) {
        self.init()
        self = filled(from: settings)
    }

    /// An update's input with every field it left out taken from the app as it is (a partial update).
    public func filled(from current: ClientSettings) -> ClientRegistrationInput {
        var input = self
        input.name = name ?? current.name
        input.description = description ?? current.description
        input.websiteURL = websiteURL ?? current.websiteURL
        input.allowPKCE = allowPKCE ?? current.allowPKCE
        input.redirectURIs = redirectURIs ?? current.redirectURIs
        input.allowedOrigins = allowedOrigins ?? current.allowedOrigins
        input.scopes = scopes ?? current.scopes
        input.policyURL = policyURL ?? current.policyURL
        input.termsURL = termsURL ?? current.termsURL
        input.logoutRedirectURI = logoutRedirectURI ?? current.logoutRedirectURI
        return input
    }
}
