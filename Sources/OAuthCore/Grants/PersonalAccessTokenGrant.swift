import Foundation

/// What the portal's browser session says about a token request (SPEC §7): the
/// `personal_access_token` grant acts for the person signed in to the portal's own pages.
public enum SessionProof: Sendable {
    /// No session came with the request, or it has ended.
    case none
    /// A session came, but nothing shows that the request came from the portal's own pages
    /// (no same-origin `Origin` or `Sec-Fetch-Site`, no CSRF header): a cookie another site's page
    /// made the browser send.
    case foreignOrigin
    /// The signed-in person.
    case person(SessionPerson)
}

/// The signed-in person, as much as the grant needs.
public struct SessionPerson: Sendable {
    public var personID: SubjectID
    public var isGuest: Bool
    public var isAdministrator: Bool
    public var authTime: Date

    public init(personID: SubjectID, isGuest: Bool, isAdministrator: Bool, authTime: Date) {
        self.personID = personID
        self.isGuest = isGuest
        self.isAdministrator = isAdministrator
        self.authTime = authTime
    }

    /// SPEC §7: the app's creator or an admin; never a guest.
    func mayTakeDeveloperTokens(of client: RegisteredClient) -> Bool {
        !isGuest && (isAdministrator || client.createdBy == personID.rawValue)
    }
}

/// Issues developer tokens (SPEC §7): an access token for the signed-in person and an app, holding the
/// scopes chosen (a subset of the app's), without a refresh token, living the developer token lifetime;
/// one per person and app, a new one revoking the one before. Used by the grant and by the app's page.
public struct DeveloperTokenIssuer: Sendable {
    let store: any DeveloperTokenStore
    let issuer: TokenIssuer

    public init(store: any DeveloperTokenStore, issuer: TokenIssuer) {
        self.store = store
        self.issuer = issuer
    }

    /// A developer token with its stored record.
    public struct Issued: Sendable {
        public let token: String
        public let record: DeveloperToken
    }

    /// The scopes asked for, in the app's order, when every one is the app's.
    public static func scopes(_ requested: String?, client: RegisteredClient) -> Result<[String], OAuthError> {
        let asked = (requested ?? "").split(separator: " ").map(String.init)
        guard !asked.isEmpty else { return .failure(.invalidRequest("scope is required: name the scopes the token should hold.")) }
        let beyond = asked.filter { !client.scopes.contains($0) }
        guard beyond.isEmpty else {
            return .failure(.invalidScope("The app is not registered for: \(beyond.joined(separator: " "))."))
        }
        return .success(client.scopes.filter(Set(asked).contains))
    }

    /// Issues the token after the rules of SPEC §7: the person is the app's creator or an admin, not a
    /// guest; the app is enabled; the scopes are the app's.
    public func issue(client: RegisteredClient, person: SessionPerson, scopes requested: String?, key: SigningKey, now: Date)
        async throws -> Result<Issued, OAuthError>
    {
        guard person.mayTakeDeveloperTokens(of: client) else {
            return .failure(.accessDenied(person.isGuest
                ? "Guests cannot make developer tokens."
                : "Only the app's creator or an admin can make developer tokens for it."))
        }
        guard client.enabled else { return .failure(.invalidClient("This app is disabled.")) }
        let scopes: [String]
        switch Self.scopes(requested, client: client) {
        case .failure(let error): return .failure(error)
        case .success(let chosen): scopes = chosen
        }
        let record = DeveloperToken(
            grantID: .generate(), clientID: client.clientID, personID: person.personID, scopes: scopes, authTime: person.authTime,
            createdAt: now, expiresAt: now.addingTimeInterval(issuer.developerTokenLifetime)
        )
        let subject = TokenIssuer.Subject(
            clientID: client.clientID, personID: person.personID, grantID: record.grantID, scopes: scopes, authTime: person.authTime, nonce: nil
        )
        // Signed before anything is written: a failure leaves the token before it working.
        let token = try issuer.accessToken(for: subject, now: now, key: key, lifetime: issuer.developerTokenLifetime).token
        _ = try await store.open(record, feedExpiry: issuer.feedExpiry(at: now))
        return .success(Issued(token: token, record: record))
    }
}

/// The `personal_access_token` grant (SPEC §7, after ASC.Identity's): client authentication with the
/// app's secret, the person's session cookie with proof that the request came from the portal's own
/// pages, and `scope`. Answers an access token without a refresh token.
public struct PersonalAccessTokenGrant: GrantHandler {
    public let grantType = "personal_access_token"
    public init() {}

    public func handle(_ request: TokenRequest, client: RegisteredClient, credentials: ClientCredentials, keys: ActiveKeys,
                       context: GrantContext, now: Date) async throws -> Result<TokenResponse, OAuthError> {
        guard let issuer = context.developerTokens else { return .failure(.unsupportedGrantType("Developer tokens are not offered here.")) }
        if case .none = credentials {
            return .failure(.invalidClient("The personal_access_token grant needs the app's secret (client_secret_basic or client_secret_post)."))
        }
        let person: SessionPerson
        switch request.session {
        case .none:
            return .failure(.invalidGrant("The personal_access_token grant needs the person's session: sign in to the portal first."))
        case .foreignOrigin:
            return .failure(.invalidGrant(
                "The personal_access_token grant must come from the portal's own pages (a same-origin Origin or Sec-Fetch-Site, or the X-CSRF-Token header)."
            ))
        case .person(let signedIn):
            person = signedIn
        }
        let issued: DeveloperTokenIssuer.Issued
        switch try await issuer.issue(client: client, person: person, scopes: request["scope"], key: keys.accessToken, now: now) {
        case .failure(let error): return .failure(error)
        case .success(let made): issued = made
        }
        return .success(TokenResponse(
            access_token: issued.token, expires_in: Int(context.issuer.developerTokenLifetime), refresh_token: nil,
            scope: issued.record.scopes.joined(separator: " ")
        ))
    }
}

extension DeveloperTokenIssuer {
    /// The person's developer token for the app while it is neither revoked nor expired.
    public func current(client: ClientID, person: SubjectID, now: Date) async throws -> DeveloperToken? {
        try await store.current(clientID: client, personID: person, now: now)
    }

    /// Revokes the person's current developer token for the app (only when it is `grantID`, if given:
    /// the token a dialog showed, not a newer one); `false` when there was none.
    public func revokeCurrent(client: ClientID, person: SubjectID, grantID: GrantID? = nil, now: Date) async throws -> Bool {
        try await store.revokeCurrent(clientID: client, personID: person, grantID: grantID, at: now, feedExpiry: issuer.feedExpiry(at: now)) != nil
    }
}
