import Foundation

/// `GET /oauth2/authorize` as received (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1).
public struct AuthorizationRequest: Sendable, Equatable {
    public var clientID: String?
    public var redirectURI: String?
    public var responseType: String?
    public var scope: String?
    public var state: String?
    public var nonce: String?
    public var codeChallenge: String?
    public var codeChallengeMethod: String?
    public var prompt: String?
    public var maxAge: String?
    public var loginHint: String?
    /// OIDC Core §6.1 request object (not supported).
    public var requestObject: String?
    /// OIDC Core §6.2 request by reference (not supported).
    public var requestURI: String?
    /// OAuth 2.0 Multiple Response Type Encoding Practices §2.1 (only `query`).
    public var responseMode: String?
    /// RFC 8707 §2: the resources the token is for (`resource` may be sent several times).
    public var resources: [String] = []
    /// Parameters sent more than once (RFC 6749 §3.1: they MUST NOT be), but for `resource`.
    public var duplicated: [String] = []

    public init() {}

    /// Reads the query's pairs; unknown parameters are ignored (RFC 6749 §3.1).
    public init(pairs: [(name: String, value: String)]) {
        var counts: [String: Int] = [:]
        for pair in pairs { counts[pair.name, default: 0] += 1 }
        duplicated = counts.filter { $0.value > 1 && $0.key != "resource" }.map(\.key).sorted()
        resources = pairs.filter { $0.name == "resource" }.map(\.value)
        func first(_ name: String) -> String? { pairs.first { $0.name == name }?.value }
        clientID = first("client_id")
        redirectURI = first("redirect_uri")
        responseType = first("response_type")
        scope = first("scope")
        state = first("state")
        nonce = first("nonce")
        codeChallenge = first("code_challenge")
        codeChallengeMethod = first("code_challenge_method")
        prompt = first("prompt")
        maxAge = first("max_age")
        loginHint = first("login_hint")
        requestObject = first("request")
        requestURI = first("request_uri")
        responseMode = first("response_mode")
    }

    /// The parameters that define the request, for binding a consent form to it.
    public var canonicalPairs: [(String, String)] {
        [
            ("client_id", clientID), ("redirect_uri", redirectURI), ("response_type", responseType), ("scope", scope),
            ("state", state), ("nonce", nonce), ("code_challenge", codeChallenge),
            ("code_challenge_method", codeChallengeMethod), ("prompt", prompt), ("max_age", maxAge),
        ].compactMap { name, value in value.map { (name, $0) } } + resources.map { ("resource", $0) }
    }
}

/// A request that passed every check: what the consent and the code are bound to.
public struct ValidatedAuthorization: Sendable, Equatable {
    public let client: RegisteredClient
    /// The redirect URI the answer goes to (registered, exact).
    public let redirectURI: String
    /// `true` when the request named the redirect URI (then the token request must repeat it, RFC 6749 §4.1.3).
    public let redirectURIWasGiven: Bool
    public let scopes: ScopeSet
    public let state: String?
    public let nonce: String?
    public let codeChallenge: String?
    public let prompts: Set<String>
    public let maxAge: Int?
    /// The resources granted (RFC 8707); empty when none was named: then tokens are for the issuer.
    public let resources: [String]
}

/// Where an authorization error goes.
public enum AuthorizationFailure: Error, Sendable, Equatable {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect (RFC 6749 §4.1.2.1).
    case errorPage(OAuthError)
    /// Redirect back to the app with `error`, `error_description`, `state` and `iss`.
    case redirect(OAuthError, redirectURI: String, state: String?)
}
