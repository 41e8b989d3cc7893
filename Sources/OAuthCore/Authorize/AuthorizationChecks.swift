import Foundation

/// The checks of `/oauth2/authorize`, in order, each doing one thing (after node-oidc-provider's
/// `actions/authorization`). The first two decide whether the redirect URI can be trusted; until
/// then failures show an error page; afterwards they go back to the app.
public enum AuthorizationChecks {
    /// Runs every check; `lookup` finds the client.
    public static func validate(_ request: AuthorizationRequest, lookup: any ClientLookup, resources: ResourceIndicators) async throws
        -> Result<ValidatedAuthorization, AuthorizationFailure>
    {
        // 1. ClientCheck — RFC 6749 §4.1.2.1: an unknown or disabled client gets no redirect.
        if request.duplicated.contains("client_id") {
            return .failure(.errorPage(.invalidRequest("client_id was sent more than once.")))
        }
        guard let rawID = request.clientID, !rawID.isEmpty else {
            return .failure(.errorPage(.invalidRequest("client_id is missing.")))
        }
        guard let id = ClientID(validating: rawID), let client = try await lookup.find(id) else {
            return .failure(.errorPage(.invalidClient("There is no app with this client_id.")))
        }
        guard client.enabled else { return .failure(.errorPage(.invalidClient("This app is disabled."))) }

        // 2. RedirectURICheck — RFC 6749 §3.1.2.3 and RFC 9700 §4.1.3: exact string match, but for
        // the port of an http loopback URI (RFC 8252 §7.3); the URI sent is the one redirected to.
        if request.duplicated.contains("redirect_uri") {
            return .failure(.errorPage(.invalidRequest("redirect_uri was sent more than once.")))
        }
        let redirectURI: String
        if let given = request.redirectURI {
            guard client.redirectURIs.contains(where: { URLRules.redirectURI(given, matches: $0) }) else {
                return .failure(.errorPage(.invalidRequest("redirect_uri is not registered for this app.")))
            }
            redirectURI = given
        } else {
            guard client.redirectURIs.count == 1, let only = client.redirectURIs.first else {
                return .failure(.errorPage(.invalidRequest("redirect_uri is required: this app has several.")))
            }
            redirectURI = only
        }
        let state = request.state
        func back(_ error: OAuthError) -> Result<ValidatedAuthorization, AuthorizationFailure> {
            .failure(.redirect(error, redirectURI: redirectURI, state: state))
        }
        if let repeated = request.duplicated.first {
            return back(.invalidRequest("\(repeated) was sent more than once."))
        }

        // 3. What this server does not do is refused, not ignored: OIDC Core §6 request objects
        // (§3.1.2.6 `request_not_supported`, `request_uri_not_supported`) and any response mode but
        // `query` (Multiple Response Type Encoding Practices §2.1; discovery lists only `query`).
        if request.requestObject != nil {
            return back(OAuthError("request_not_supported", "Request objects (the request parameter) are not supported."))
        }
        if request.requestURI != nil {
            return back(OAuthError("request_uri_not_supported", "request_uri is not supported."))
        }
        if let mode = request.responseMode, mode != "query" {
            return back(.invalidRequest("response_mode must be query."))
        }

        // 4. ResponseTypeCheck — only the code flow.
        guard let responseType = request.responseType, !responseType.isEmpty else {
            return back(.invalidRequest("response_type is missing."))
        }
        guard responseType == "code" else {
            return back(.unsupportedResponseType("Only response_type=code is supported."))
        }

        // 5. ScopeCheck — RFC 6749 §3.3: left out, the app's registered scopes; never more than registered.
        let requested = (request.scope ?? "").split(separator: " ").map(String.init)
        let scopes: ScopeSet
        if requested.isEmpty {
            guard let registered = try? ScopeSet.normalize(client.scopes).get() else {
                return back(.invalidScope("This app has no valid registered scopes."))
            }
            scopes = registered
        } else {
            switch ScopeSet.normalize(requested) {
            case .failure(let unknown): return back(.invalidScope("Unknown scope: \(unknown.names.joined(separator: " "))."))
            case .success(let set):
                let registered = Set(client.scopes)
                let outside = set.names.filter { !registered.contains($0) }
                guard outside.isEmpty else {
                    return back(.invalidScope("This app is not registered for \(outside.joined(separator: " "))."))
                }
                scopes = set
            }
        }

        // 6. PKCECheck — RFC 7636 §4.3; S256 only (plain is refused, RFC 9700 §2.1.1).
        if let method = request.codeChallengeMethod, method != "S256" {
            return back(.invalidRequest("code_challenge_method must be S256."))
        }
        if let challenge = request.codeChallenge {
            guard request.codeChallengeMethod == "S256" else {
                return back(.invalidRequest("code_challenge_method=S256 is required with code_challenge (plain is not supported)."))
            }
            guard PKCE.isValidChallenge(challenge) else {
                return back(.invalidRequest("code_challenge must be 43 base64url characters (S256)."))
            }
        } else if request.codeChallengeMethod != nil {
            return back(.invalidRequest("code_challenge is missing."))
        } else if client.isPublicOnly {
            // An app without a secret can redeem a code only with PKCE: refused here, not after consent.
            return back(.invalidRequest("code_challenge is required: this app is a public client (RFC 7636, RFC 9700 §2.1.1)."))
        }

        // 7. PromptCheck — OIDC Core §3.1.2.1.
        let prompts = Set((request.prompt ?? "").split(separator: " ").map(String.init))
        let knownPrompts: Set<String> = ["none", "login", "consent"]
        guard prompts.isSubset(of: knownPrompts) else {
            return back(.invalidRequest("prompt may be none, login or consent."))
        }
        if prompts.contains("none"), prompts.count > 1 {
            return back(.invalidRequest("prompt=none cannot be combined with other values."))
        }
        var maxAge: Int?
        if let text = request.maxAge {
            guard let value = Int(text), value >= 0 else { return back(.invalidRequest("max_age must be a non-negative integer.")) }
            maxAge = value
        }
        if let nonce = request.nonce, nonce.count > 512 { return back(.invalidRequest("nonce is too long.")) }

        // 8. ResourceCheck — RFC 8707 §2: each resource one this server knows, exactly.
        let granted: [String]
        switch resources.granted(request.resources) {
        case .failure(let error): return back(error)
        case .success(let chosen): granted = chosen
        }
        if let state, state.count > 2048 { return back(.invalidRequest("state is too long.")) }

        return .success(ValidatedAuthorization(
            client: client, redirectURI: redirectURI, redirectURIWasGiven: request.redirectURI != nil, scopes: scopes,
            state: state, nonce: request.nonce, codeChallenge: request.codeChallenge, prompts: prompts, maxAge: maxAge,
            resources: granted
        ))
    }

    /// The redirect back to the app: `code` or `error`, plus `state` and `iss` (RFC 9207), added to
    /// the registered URI's own query, which is kept exactly as registered (RFC 6749 §3.1.2).
    public static func responseURL(redirectURI: String, parameters: [(String, String?)], issuer: String) -> String {
        var query = ""
        for case let (name, value?) in parameters + [("iss", issuer)] {
            if !query.isEmpty { query += "&" }
            query += formEscape(name) + "=" + formEscape(value)
        }
        // A registered URI never has a fragment (URLRules); should one appear, it stays last.
        let fragmentStart = redirectURI.firstIndex(of: "#") ?? redirectURI.endIndex
        let base = redirectURI[..<fragmentStart]
        let separator = !base.contains("?") ? "?" : (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&")
        return base + separator + query + redirectURI[fragmentStart...]
    }

    /// One query component percent-encoded (everything but RFC 3986 unreserved characters).
    public static func formEscape(_ text: String) -> String { FormURLEncoding.encode(text) }
}
