import Foundation

/// The body of a successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
public struct TokenResponse: Codable, Sendable {
    public let access_token: String
    public let token_type: String
    public let expires_in: Int
    /// Left out where a grant issues none (the developer token, SPEC §7).
    public let refresh_token: String?
    public let scope: String
    public let id_token: String?

    public init(access_token: String, token_type: String = "Bearer", expires_in: Int, refresh_token: String?, scope: String,
                id_token: String? = nil) {
        self.access_token = access_token
        self.token_type = token_type
        self.expires_in = expires_in
        self.refresh_token = refresh_token
        self.scope = scope
        self.id_token = id_token
    }
}

/// The keys a token response is signed with at this moment.
public struct ActiveKeys: Sendable {
    public let accessToken: SigningKey
    public let idToken: SigningKey
    public init(accessToken: SigningKey, idToken: SigningKey) {
        self.accessToken = accessToken
        self.idToken = idToken
    }
}

/// Everything a grant handler needs.
public struct GrantContext: Sendable {
    public let codes: any AuthorizationCodeStore
    public let refreshTokens: any RefreshTokenStore
    public let grants: any GrantStore
    public let issuer: TokenIssuer
    public let refreshTokenLifetime: TimeInterval
    public let personClaims: @Sendable (SubjectID) async throws -> PersonClaims?
    /// The resources tokens may be for (RFC 8707).
    public let resources: ResourceIndicators
    /// Developer tokens (SPEC §7); `nil`: the `personal_access_token` grant is not offered.
    public let developerTokens: DeveloperTokenIssuer?

    public init(codes: any AuthorizationCodeStore, refreshTokens: any RefreshTokenStore, grants: any GrantStore, issuer: TokenIssuer,
                refreshTokenLifetime: TimeInterval, resources: ResourceIndicators, developerTokens: DeveloperTokenIssuer? = nil,
                personClaims: @escaping @Sendable (SubjectID) async throws -> PersonClaims?) {
        self.resources = resources
        self.developerTokens = developerTokens
        self.codes = codes
        self.refreshTokens = refreshTokens
        self.grants = grants
        self.issuer = issuer
        self.refreshTokenLifetime = refreshTokenLifetime
        self.personClaims = personClaims
    }
}

/// One grant type (RFC 6749 §4): adding a grant is one handler and one line in `TokenGrants.all`.
public protocol GrantHandler: Sendable {
    var grantType: String { get }
    func handle(_ request: TokenRequest, client: RegisteredClient, credentials: ClientCredentials, keys: ActiveKeys,
                context: GrantContext, now: Date) async throws -> Result<TokenResponse, OAuthError>
}

/// A token request's form parameters.
public struct TokenRequest: Sendable {
    public let parameters: [String: String]
    /// RFC 8707 §2.2: the `resource` parameters (the one parameter that may be sent several times).
    public let resources: [String]
    /// The portal's browser session that came with the request (the `personal_access_token` grant).
    public let session: SessionProof
    public init(parameters: [String: String], resources: [String] = [], session: SessionProof = .none) {
        self.parameters = parameters
        self.resources = resources
        self.session = session
    }
    public subscript(_ name: String) -> String? { parameters[name] }
}

/// The grants Gatehouse answers.
public enum TokenGrants {
    public static let all: [any GrantHandler] = [AuthorizationCodeGrant(), RefreshTokenGrant(), PersonalAccessTokenGrant()]

    static func respond(subject: TokenIssuer.Subject, refreshToken: String, withIDToken: Bool, keys: ActiveKeys,
                        context: GrantContext, now: Date) async throws -> Result<TokenResponse, OAuthError> {
        let access = try context.issuer.accessToken(for: subject, now: now, key: keys.accessToken)
        var idToken: String?
        if withIDToken {
            guard let person = try await context.personClaims(subject.personID) else {
                return .failure(.invalidGrant("The person of this grant no longer exists."))
            }
            idToken = try context.issuer.idToken(for: subject, person: person, accessToken: access.token, now: now, key: keys.idToken)
        }
        return .success(TokenResponse(
            access_token: access.token, token_type: "Bearer", expires_in: Int(context.issuer.accessTokenLifetime),
            refresh_token: refreshToken, scope: subject.scopes.joined(separator: " "), id_token: idToken
        ))
    }
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.5–4.6: exchanging a code.
public struct AuthorizationCodeGrant: GrantHandler {
    public let grantType = "authorization_code"
    public init() {}

    public func handle(_ request: TokenRequest, client: RegisteredClient, credentials: ClientCredentials, keys: ActiveKeys,
                       context: GrantContext, now: Date) async throws -> Result<TokenResponse, OAuthError> {
        guard let code = request["code"], !code.isEmpty else { return .failure(.invalidRequest("code is missing.")) }
        let verifier = request["code_verifier"]
        if let verifier, !PKCE.isValidVerifier(verifier) {
            return .failure(.invalidRequest("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)."))
        }
        let codeHash = OpaqueToken.hash(code)
        guard let issued = try await context.codes.find(codeHash: codeHash) else {
            return .failure(.invalidGrant("The code is unknown."))
        }
        guard issued.clientID == client.clientID else { return .failure(.invalidGrant("The code was issued to another app.")) }
        if issued.consumedAt != nil {
            // RFC 6749 §4.1.2: a reused code revokes what it issued.
            try await context.grants.revoke(grantID: issued.grantID, at: now, feedExpiry: context.issuer.feedExpiry(at: now))
            return .failure(.invalidGrant("The code was already used; the tokens it issued are revoked."))
        }
        guard issued.expiresAt > now else { return .failure(.invalidGrant("The code has expired.")) }
        let redirectURI = request["redirect_uri"]
        if issued.redirectURIWasGiven {
            guard redirectURI == issued.redirectURI else {
                return .failure(.invalidGrant("redirect_uri must repeat the one of the authorization request."))
            }
        } else if let redirectURI, redirectURI != issued.redirectURI {
            return .failure(.invalidGrant("redirect_uri does not match the authorization request."))
        }
        if let challenge = issued.codeChallenge {
            guard let verifier else { return .failure(.invalidGrant("code_verifier is required: the request sent a code_challenge.")) }
            guard PKCE.verify(verifier: verifier, challenge: challenge) else {
                return .failure(.invalidGrant("code_verifier does not match the code_challenge."))
            }
        } else {
            if verifier != nil { return .failure(.invalidGrant("code_verifier was sent, but the request had no code_challenge.")) }
            if case .none = credentials {
                return .failure(.invalidGrant("A public client must use PKCE: the request had no code_challenge."))
            }
        }
        let audience: [String]
        switch context.resources.audience(requested: request.resources, granted: issued.resources) {
        case .failure(let error): return .failure(error)
        case .success(let chosen): audience = chosen
        }
        let refresh = OpaqueToken.generate()
        let stored = StoredRefreshToken(
            tokenHash: OpaqueToken.hash(refresh), grantID: issued.grantID, clientID: client.clientID, personID: issued.personID,
            scopes: issued.scopes, authTime: issued.authTime, createdAt: now, expiresAt: now.addingTimeInterval(context.refreshTokenLifetime)
        )
        guard try await context.codes.redeem(codeHash: codeHash, at: now, firstRefreshToken: stored) else {
            try await context.grants.revoke(grantID: issued.grantID, at: now, feedExpiry: context.issuer.feedExpiry(at: now))
            return .failure(.invalidGrant("The code was already used or its grant was revoked; the tokens it issued are revoked."))
        }
        let subject = TokenIssuer.Subject(
            clientID: client.clientID, personID: issued.personID, grantID: issued.grantID, scopes: issued.scopes,
            authTime: issued.authTime, nonce: issued.nonce, audience: audience
        )
        return try await TokenGrants.respond(
            subject: subject, refreshToken: refresh, withIDToken: issued.scopes.contains("openid"), keys: keys, context: context, now: now
        )
    }
}

/// RFC 6749 §6 with rotation (RFC 9700 §4.14.2): a refresh token works once.
public struct RefreshTokenGrant: GrantHandler {
    public let grantType = "refresh_token"
    public init() {}

    public func handle(_ request: TokenRequest, client: RegisteredClient, credentials: ClientCredentials, keys: ActiveKeys,
                       context: GrantContext, now: Date) async throws -> Result<TokenResponse, OAuthError> {
        guard let token = request["refresh_token"], !token.isEmpty else { return .failure(.invalidRequest("refresh_token is missing.")) }
        let hash = OpaqueToken.hash(token)
        guard let stored = try await context.refreshTokens.find(tokenHash: hash) else {
            return .failure(.invalidGrant("The refresh token is unknown."))
        }
        guard stored.clientID == client.clientID else { return .failure(.invalidGrant("The refresh token belongs to another app.")) }
        if stored.rotatedAt != nil {
            // A rotated-out token came back: someone kept a copy. End the whole grant.
            try await context.grants.revoke(grantID: stored.grantID, at: now, feedExpiry: context.issuer.feedExpiry(at: now))
            return .failure(.invalidGrant("The refresh token was already used; the grant is revoked."))
        }
        guard stored.expiresAt > now else { return .failure(.invalidGrant("The refresh token has expired.")) }
        // Scopes the app's registration no longer holds are gone from the grant for good.
        let held = ScopeSet.retained(stored.scopes, registered: client.scopes)
        guard !held.isEmpty else { return .failure(.invalidGrant("The app is no longer registered for any scope of this grant.")) }
        var scopes = held
        if let requested = request["scope"], !requested.isEmpty {
            let asked = requested.split(separator: " ").map(String.init)
            guard Set(asked).isSubset(of: Set(held)) else {
                return .failure(.invalidScope("A refresh may narrow the scopes, never widen them."))
            }
            scopes = held.filter(Set(asked).contains)
        }
        let audience: [String]
        switch context.resources.audience(requested: request.resources, granted: stored.resources) {
        case .failure(let error): return .failure(error)
        case .success(let chosen): audience = chosen
        }
        let successor = OpaqueToken.generate()
        let next = StoredRefreshToken(
            tokenHash: OpaqueToken.hash(successor), grantID: stored.grantID, clientID: client.clientID, personID: stored.personID,
            scopes: held, authTime: stored.authTime, createdAt: now, expiresAt: now.addingTimeInterval(context.refreshTokenLifetime)
        )
        guard try await context.refreshTokens.rotate(tokenHash: hash, at: now, successor: next) else {
            return .failure(.invalidGrant("The refresh token is no longer valid."))
        }
        let subject = TokenIssuer.Subject(
            clientID: client.clientID, personID: stored.personID, grantID: stored.grantID, scopes: scopes,
            authTime: stored.authTime, nonce: nil, audience: audience
        )
        return try await TokenGrants.respond(subject: subject, refreshToken: successor, withIDToken: false, keys: keys, context: context, now: now)
    }
}
