/// The error codes of RFC 6749 §4.1.2.1 and §5.2 and OpenID Connect Core §3.1.2.6, as values.
/// No HTTP here: `Web/ErrorMapping.swift` decides statuses and bodies.
public struct OAuthError: Error, Sendable, Equatable {
    /// The registered error code.
    public let code: String
    /// A sentence for the developer (never a secret or a token).
    public let description: String

    public init(_ code: String, _ description: String) {
        self.code = code
        self.description = description
    }

    public static func invalidRequest(_ description: String) -> OAuthError { .init("invalid_request", description) }
    public static func invalidClient(_ description: String) -> OAuthError { .init("invalid_client", description) }
    public static func invalidGrant(_ description: String) -> OAuthError { .init("invalid_grant", description) }
    public static func unauthorizedClient(_ description: String) -> OAuthError { .init("unauthorized_client", description) }
    public static func unsupportedGrantType(_ description: String) -> OAuthError { .init("unsupported_grant_type", description) }
    public static func unsupportedResponseType(_ description: String) -> OAuthError { .init("unsupported_response_type", description) }
    public static func invalidScope(_ description: String) -> OAuthError { .init("invalid_scope", description) }
    public static func accessDenied(_ description: String) -> OAuthError { .init("access_denied", description) }
    public static func serverError(_ description: String) -> OAuthError { .init("server_error", description) }
    public static func loginRequired(_ description: String) -> OAuthError { .init("login_required", description) }
    public static func consentRequired(_ description: String) -> OAuthError { .init("consent_required", description) }
    public static func invalidToken(_ description: String) -> OAuthError { .init("invalid_token", description) }
}
