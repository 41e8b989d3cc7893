import Foundation

/// What the `Authorization` header of a client-authenticated request carried (Web reads the header).
public enum ClientAuthorizationHeader: Sendable, Equatable {
    /// `Basic` and its base64 credentials (RFC 7617 §2).
    case basic(String)
    /// Another scheme, or credentials that are not one token.
    case other
}

/// How a client proved who it is at the token, revocation and introspection endpoints
/// (RFC 6749 §2.3.1; OpenID Connect Core §9 method names).
public enum ClientCredentials: Sendable, Equatable {
    /// `Authorization: Basic` with the form-urlencoded id and secret.
    case basic(clientID: String, secret: String)
    /// `client_id` and `client_secret` in the body.
    case post(clientID: String, secret: String)
    /// Only `client_id`: a public client, which must prove PKCE.
    case none(clientID: String)

    public var clientID: String {
        switch self {
        case .basic(let id, _), .post(let id, _), .none(let id): id
        }
    }

    public var method: String {
        switch self {
        case .basic: "client_secret_basic"
        case .post: "client_secret_post"
        case .none: "none"
        }
    }

    /// Reads the credentials of a request. RFC 6749 §2.3: a client uses one method only.
    public static func parse(authorization: ClientAuthorizationHeader?, form: (String) -> String?) -> Result<ClientCredentials, OAuthError> {
        let bodyID = form("client_id")
        let bodySecret = form("client_secret")
        if let authorization {
            guard case .basic(let encoded) = authorization else {
                return .failure(.invalidClient("Only Basic client authentication is accepted in the Authorization header."))
            }
            guard bodySecret == nil else {
                return .failure(.invalidRequest("Use one client authentication method: Basic or client_secret in the body, not both."))
            }
            guard let decoded = Base64.decode(encoded.utf8), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(.invalidClient("The Basic credentials are malformed."))
            }
            // RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
            let id = FormURLEncoding.decode(decoded[..<colon])
            let secret = FormURLEncoding.decode(decoded[(colon + 1)...])
            guard !id.isEmpty else { return .failure(.invalidClient("The Basic credentials are malformed.")) }
            if let bodyID, bodyID != id {
                return .failure(.invalidRequest("client_id in the body differs from the Basic credentials."))
            }
            return .success(.basic(clientID: id, secret: secret))
        }
        guard let bodyID, !bodyID.isEmpty else { return .failure(.invalidClient("Client authentication is required.")) }
        if let bodySecret { return .success(.post(clientID: bodyID, secret: bodySecret)) }
        return .success(.none(clientID: bodyID))
    }

    /// The client these credentials prove, or `invalid_client`.
    public func authenticate(lookup: any ClientLookup) async throws -> Result<RegisteredClient, OAuthError> {
        let failure = OAuthError.invalidClient("Client authentication failed.")
        guard let id = ClientID(validating: clientID), let client = try await lookup.find(id) else {
            return .failure(failure)
        }
        switch self {
        case .basic(_, let secret), .post(_, let secret):
            guard client.secretMatches(secret) else { return .failure(failure) }
        case .none:
            guard client.allowPKCE else {
                return .failure(.invalidClient("This app is not a public client; authenticate with its secret."))
            }
        }
        guard client.enabled else { return .failure(.invalidClient("This app is disabled.")) }
        return .success(client)
    }
}
