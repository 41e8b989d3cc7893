import Crypto
import Foundation
import OAuthCore
import PortalCore

/// The authorization server (SPEC §3): discovery and keys, the token, introspection, revocation
/// and userinfo endpoints, and the authorize and logout pages.
public struct AuthorizationServerFeature: Sendable {
    let issuer: String
    let issuerURL: URL
    let portalAPI: ProtectedResource
    let keys: KeyRing
    let clients: any ClientLookup
    let authorization: any AuthorizationStore
    let people: any PersonStore
    let revoker: Revoker
    let signIn: SignInService
    let pages: Pages
    let verifier: AccessTokenVerifier
    let cors: OAuthCORS
    let limiter: RateLimiter
    let metrics: AppMetrics
    let clock: any TimeSource
    let lifetimes: TokenLifetimes
    let tokenIssuer: TokenIssuer
    let developerTokens: DeveloperTokenIssuer
    let tokenRevocations: TokenRevocations
    let registration: DynamicRegistrationSettings
    /// Apps known by their metadata documents (SPEC §6); `nil` when turned off.
    let documents: ClientMetadataDocuments?
    /// Whether the MCP server is offered: its metadata is served and tokens may be asked for it.
    let offersMCP: Bool
    let tokenRequestsPerMinute: Int
    let consentBindingKey: SymmetricKey

    /// Dynamic client registration (SPEC §6): the policy, the per-address budget and where apps go.
    public struct DynamicRegistrationSettings: Sendable {
        public var policy: DynamicRegistrationPolicy
        public var attemptsPerHour: Int
        public var limits: ClientLimits
        public var store: any ClientStore
        public var throttle: any RegistrationThrottle

        public init(policy: DynamicRegistrationPolicy, attemptsPerHour: Int, limits: ClientLimits, store: any ClientStore,
                    throttle: any RegistrationThrottle) {
            self.policy = policy
            self.attemptsPerHour = attemptsPerHour
            self.limits = limits
            self.store = store
            self.throttle = throttle
        }
    }

    /// How long codes and refresh tokens live (access tokens: `TokenIssuer`).
    public struct TokenLifetimes: Sendable {
        public var code: TimeInterval
        public var refreshToken: TimeInterval

        public init(code: TimeInterval, refreshToken: TimeInterval) {
            self.code = code
            self.refreshToken = refreshToken
        }
    }

    public init(
        issuer: URL, keys: KeyRing, clients: any ClientLookup,
        authorization: any AuthorizationStore,
        people: any PersonStore, revoker: Revoker, signIn: SignInService, pages: Pages, verifier: AccessTokenVerifier,
        cors: OAuthCORS, limiter: RateLimiter, metrics: AppMetrics, clock: any TimeSource, lifetimes: TokenLifetimes,
        tokenIssuer: TokenIssuer, developerTokens: DeveloperTokenIssuer, tokenRevocations: TokenRevocations, offersMCP: Bool = true,
        registration: DynamicRegistrationSettings, documents: ClientMetadataDocuments?, tokenRequestsPerMinute: Int, secretKey: SymmetricKey
    ) {
        self.documents = documents
        self.offersMCP = offersMCP
        self.registration = registration
        self.tokenRevocations = tokenRevocations
        self.tokenIssuer = tokenIssuer
        self.developerTokens = developerTokens
        self.issuer = issuer.absoluteString
        self.issuerURL = issuer
        self.portalAPI = .portalAPI(publicURL: issuer)
        self.keys = keys
        self.clients = clients
        self.authorization = authorization
        self.people = people
        self.revoker = revoker
        self.signIn = signIn
        self.pages = pages
        self.verifier = verifier
        self.cors = cors
        self.limiter = limiter
        self.metrics = metrics
        self.clock = clock
        self.lifetimes = lifetimes
        self.tokenRequestsPerMinute = tokenRequestsPerMinute
        self.consentBindingKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("consent binding".utf8), using: secretKey))
    }

    public func register(on routes: Routes) {
        let oauth2 = routes.group("/oauth2")
        let store = authorization
        let grants = LocallyAppliedGrantStore(inner: store, revoker: revoker)
        let people = people
        let mcp: ProtectedResource? = offersMCP ? .mcp(publicURL: issuerURL) : nil
        let resources = ResourceIndicators(issuer: issuer, known: [portalAPI.resource] + [mcp?.resource].compactMap { $0 })
        let grantContext = GrantContext(
            codes: store, refreshTokens: store, grants: grants,
            issuer: tokenIssuer, refreshTokenLifetime: lifetimes.refreshToken, resources: resources,
            developerTokens: developerTokens,
            personClaims: { id in try await people.find(id: id.person).map(personClaims) }
        )
        // The apps with a row, and those a fresh metadata document describes (none while documents are off).
        let clients = ClientsWithDocuments(registered: clients, documents: documents)
        let authenticator = ClientAuthenticator(lookup: clients)
        DynamicRegistrationEndpoint(
            store: registration.store, throttle: registration.throttle, limits: registration.limits, policy: registration.policy,
            attemptsPerHour: registration.attemptsPerHour, issuer: issuer, revoker: revoker, clock: clock
        ).addRoutes(to: oauth2)
        DiscoveryController(issuer: issuer, keys: keys, portalAPI: portalAPI, mcp: mcp, registration: registration.policy != .off, documents: documents != nil).addRoutes(wellKnown: routes.group("/.well-known"), oauth2: oauth2)
        TokenEndpoint(
            authenticator: authenticator, keys: keys, grantContext: grantContext, cors: cors, metrics: metrics, clock: clock,
            limiter: limiter, requestsPerMinute: tokenRequestsPerMinute, csrf: pages.csrf, publicOrigin: origin(of: issuerURL)
        ).addRoutes(to: oauth2)
        // Userinfo and introspection answer for tokens of every audience of the portal (the MCP server's too).
        let everyAudience = mcp.map(verifier.alsoTaking) ?? verifier
        IntrospectionEndpoint(
            authenticator: authenticator, verifier: everyAudience, refreshTokens: store, grants: grants, cors: cors, issuer: issuer, clock: clock
        ).addRoutes(to: oauth2)
        RevocationEndpoint(authenticator: authenticator, cors: cors, tokens: tokenRevocations).addRoutes(to: oauth2)
        UserInfoEndpoint(verifier: everyAudience, people: people, lookup: clients, cors: cors).addRoutes(to: oauth2)
        AuthorizeController(
            lookup: clients, consents: store, codes: store, pages: pages, csrf: pages.csrf, bindingKey: consentBindingKey, issuer: issuer,
            codeLifetime: lifetimes.code, resources: resources, documents: documents, clock: clock, metrics: metrics
        ).addRoutes(to: oauth2)
        LogoutEndpoint(keys: keys, lookup: clients, signIn: signIn, pages: pages, csrf: pages.csrf, issuer: issuer).addRoutes(to: oauth2)
    }
}
