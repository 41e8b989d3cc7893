import Foundation

/// Who may register an app by itself at `POST /oauth2/register` (SPEC §6, `GATEHOUSE_DYNAMIC_REGISTRATION`).
public enum DynamicRegistrationPolicy: String, Sendable, CaseIterable {
    /// Nobody: the endpoint is not offered.
    case off
    /// Public clients (`token_endpoint_auth_method=none`) whose redirect URIs are all loopback or
    /// private-use schemes: desktop and command-line clients, AI assistants (RFC 8252).
    case native
    /// Any client the form's rules accept, confidential ones included.
    case open
}

/// RFC 7591 §2 client metadata, read into an app's registration under a policy (SPEC §6). Pure:
/// every rule, and the errors of RFC 7591 §3.2.2.
public enum DynamicRegistration {
    /// What a registration request asks for, once it passed the rules.
    public struct Decided: Sendable {
        /// The app's fields (relaxed: what the form requires and the request lacks gets a safe default).
        public var input: ClientRegistrationInput
        /// The same, as they passed the registration rules.
        public var registration: ValidRegistration
        /// RFC 7591 §2 `token_endpoint_auth_method`: `none`, `client_secret_basic` or `client_secret_post`.
        public var authMethod: String
        /// Whether the app gets a secret.
        public var confidential: Bool { authMethod != "none" }
    }

    /// The grant and response types an app may register (RFC 7591 §2).
    public static let grantTypes: Set<String> = ["authorization_code", "refresh_token"]
    public static let responseTypes: Set<String> = ["code"]
    /// The name an app gets when it sends none.
    public static let defaultName = "Unnamed app"

    /// Reads a JSON object of client metadata (RFC 7591 §2) under `policy`.
    public static func decide(_ object: [String: Any], policy: DynamicRegistrationPolicy) -> Result<Decided, OAuthError> {
        func metadata(_ message: String) -> Result<Decided, OAuthError> { .failure(OAuthError("invalid_client_metadata", message)) }
        func redirect(_ message: String) -> Result<Decided, OAuthError> { .failure(OAuthError("invalid_redirect_uri", message)) }
        func string(_ name: String) -> (value: String?, wrong: Bool) {
            guard let raw = object[name], !(raw is NSNull) else { return (nil, false) }
            guard let text = raw as? String else { return (nil, true) }
            return (text, false)
        }
        func strings(_ name: String) -> (value: [String]?, wrong: Bool) {
            guard let raw = object[name], !(raw is NSNull) else { return (nil, false) }
            guard let list = raw as? [Any], list.allSatisfy({ $0 is String }) else { return (nil, true) }
            return (list.compactMap { $0 as? String }, false)
        }

        // Redirect URIs (RFC 7591 §2): required for the code flow, each by the registration rules.
        let redirects = strings("redirect_uris")
        if redirects.wrong { return redirect("redirect_uris must be an array of strings.") }
        guard let redirectURIs = redirects.value, !redirectURIs.isEmpty else { return redirect("redirect_uris is required.") }
        guard redirectURIs.count <= ClientRegistrationValidator.listCount.upperBound else {
            return redirect("At most \(ClientRegistrationValidator.listCount.upperBound) redirect URIs may be registered.")
        }
        for uri in redirectURIs {
            if let problem = URLRules.redirectURIProblem(uri) { return redirect("Redirect URI \"\(uri)\" \(problem).") }
        }

        // Text fields must be strings when present.
        for name in ["token_endpoint_auth_method", "client_name", "client_uri", "logo_uri", "scope", "policy_uri", "tos_uri"]
        where string(name).wrong {
            return metadata("\(name) must be a string.")
        }
        for name in ["grant_types", "response_types"] where strings(name).wrong {
            return metadata("\(name) must be an array of strings.")
        }

        // The authentication method, by policy: under `native` a public client only.
        let method: String
        switch (policy, string("token_endpoint_auth_method").value) {
        case (.off, _):
            return metadata("Dynamic registration is turned off on this portal.")
        case (.native, nil), (_, "none"?):
            method = "none"
        case (.native, let other?):
            return metadata("This portal registers public clients only (token_endpoint_auth_method none, with PKCE); \(other) is not allowed.")
        case (.open, nil):
            method = "client_secret_basic"  // RFC 7591 §2's default
        case (.open, let other?):
            guard ["client_secret_basic", "client_secret_post"].contains(other) else {
                return metadata("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post.")
            }
            method = other
        }
        if policy == .native {
            for uri in redirectURIs where !URLRules.isNativeRedirect(uri) {
                return redirect("Redirect URI \"\(uri)\": this portal registers native apps only, whose redirect URIs are loopback (http://127.0.0.1, [::1] or localhost) or private-use schemes.")
            }
        }
        if let grants = strings("grant_types").value, !Set(grants).isSubset(of: grantTypes) {
            return metadata("grant_types may hold only authorization_code and refresh_token.")
        }
        if let responses = strings("response_types").value, !Set(responses).isSubset(of: responseTypes) {
            return metadata("response_types may hold only code.")
        }

        // Links: http(s) when given (SPEC §6); logo_uri is never fetched.
        var links: [String: String] = [:]
        for (name, label) in [("client_uri", "client_uri"), ("policy_uri", "policy_uri"), ("tos_uri", "tos_uri")] {
            guard let value = string(name).value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
            guard URLRules.isAbsoluteWebURL(value) else { return metadata("\(label) must be an absolute http or https URL.") }
            links[name] = value
        }

        // Scopes: from the catalog; every scope when none is named (the person still chooses at consent).
        var scopes = ScopeCatalog.all.map(\.name)
        if let scope = string("scope").value?.split(separator: " ").map(String.init), !scope.isEmpty {
            switch ScopeSet.normalize(scope) {
            case .success(let normalized): scopes = normalized.names
            case .failure(let unknown): return metadata("Unknown scope: \(unknown.names.joined(separator: " ")).")
            }
        }

        let name = string("client_name").value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        var input = ClientRegistrationInput()
        input.relaxed = true
        input.name = name.isEmpty ? defaultName : name
        input.websiteURL = links["client_uri"] ?? ""
        input.policyURL = links["policy_uri"] ?? ""
        input.termsURL = links["tos_uri"] ?? ""
        input.redirectURIs = redirectURIs
        input.allowedOrigins = []
        input.scopes = scopes
        input.allowPKCE = true
        input.description = ""
        input.logo = .unchanged(Icon.letter(for: input.name ?? defaultName))
        switch ClientRegistrationValidator.validate(input) {
        case .success(let registration): return .success(Decided(input: input, registration: registration, authMethod: method))
        case .failure(let errors):
            let text = errors.errors.map(\.message).joined(separator: " ")
            if errors.errors.contains(where: { $0.field == ClientSettings.Field.redirectURIs.rawValue }) { return redirect(text) }
            return metadata(text)
        }
    }

    /// RFC 7591 §3.2.1: the registered app's metadata, with its registration access token and URI
    /// (RFC 7592 §3) when just made.
    public struct Response: Encodable, Sendable {
        public let client_id: String
        public let client_id_issued_at: Int64
        public let client_secret: String?
        public let client_secret_expires_at: Int?
        public let registration_access_token: String?
        public let registration_client_uri: String
        public let client_name: String
        public let redirect_uris: [String]
        public let token_endpoint_auth_method: String
        public let grant_types: [String]
        public let response_types: [String]
        public let scope: String
        public let client_uri: String?
        public let policy_uri: String?
        public let tos_uri: String?

        public init(client: RegisteredClient, secret: String?, registrationToken: String?, registrationURI: String, authMethod: String) {
            func link(_ value: String) -> String? { value.isEmpty ? nil : value }
            client_id = client.clientID.rawValue
            client_id_issued_at = client.createdOn.unixSeconds
            client_secret = secret
            client_secret_expires_at = secret == nil ? nil : 0
            registration_access_token = registrationToken
            registration_client_uri = registrationURI
            client_name = client.name
            redirect_uris = client.redirectURIs
            token_endpoint_auth_method = authMethod
            grant_types = ["authorization_code", "refresh_token"]
            response_types = ["code"]
            scope = client.scopes.joined(separator: " ")
            client_uri = link(client.websiteURL)
            policy_uri = link(client.policyURL)
            tos_uri = link(client.termsURL)
        }
    }
}

extension Icon {
    /// A generated icon for an app that brought none (SPEC §6: `logo_uri` is never fetched): the
    /// first letter of its name on a colour taken from the name.
    public static func letter(for name: String) -> Icon {
        let letter = name.uppercased().first(where: { $0.isASCII && ($0.isLetter || $0.isNumber) }).map(String.init) ?? "?"
        let colours = ["#2f6fed", "#7b1fa2", "#00897b", "#ef6c00", "#5d4037", "#c2185b", "#3949ab", "#558b2f"]
        let index = Int(OpaqueToken.hash(name).prefix(2), radix: 16).map { $0 % colours.count } ?? 0
        let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">\
            <rect width="32" height="32" rx="6" fill="\(colours[index])"/>\
            <text x="16" y="22" font-family="sans-serif" font-size="18" font-weight="bold" fill="#ffffff" text-anchor="middle">\(letter)</text>\
            </svg>
            """
        return Icon(trusted: Data(svg.utf8), format: .svg)
    }
}
