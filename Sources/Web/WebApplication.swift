import Crypto
import Foundation
import Hummingbird
import OAuthCore
import PortalCore
import Storage

/// Everything the HTTP layer needs, made by the composition root (`buildApplication`).
public struct WebDependencies: Sendable {
    /// The database behind every store.
    public var database: any Database
    /// People.
    public var people: any PersonStore
    /// Sessions.
    public var sessions: any SessionStore
    /// Failed sign-ins.
    public var signInFailures: any SignInFailureStore
    /// bcrypt for passwords.
    public var passwordHasher: PasswordHasher
    /// The sign-in throttling policy.
    public var signInThrottle: SignInThrottle
    /// The clock.
    public var clock: any TimeSource
    /// The server's secret key (CSRF tokens; later key encryption).
    public var secretKey: SymmetricKey
    /// `true` when the public URL is https: cookies get `Secure`.
    public var secureCookies: Bool
    /// How long a browser session lasts.
    public var browserSessionLifetime: TimeInterval
    /// How long a portal API token lasts.
    public var apiTokenLifetime: TimeInterval
    /// The Mustache pages.
    public var pages: PageRenderer
    /// The Prometheus registry.
    public var metrics: AppMetrics
    /// Registered apps.
    public var clients: any ClientStore
    /// How many apps may exist.
    public var clientLimits: ClientLimits
    /// The public base URL (issuer, absolute links).
    public var publicURL: URL
    /// Codes, refresh tokens, grants, consents and the revocation feed.
    public var authorization: SQLAuthorizationStore
    /// The signing keys in memory.
    public var keys: KeyRing
    /// The revocations in memory.
    public var revocations: RevocationSet
    /// Access and ID token lifetime.
    public var accessTokenLifetime: TimeInterval
    /// Authorization code lifetime.
    public var codeLifetime: TimeInterval
    /// Refresh token lifetime.
    public var refreshTokenLifetime: TimeInterval
    /// Listing, changing and removing accounts.
    public var directory: any PeopleDirectory
    /// Folders, files and rooms.
    public var files: any FileStore
    /// Largest upload, in bytes.
    public var maxUploadBytes: Int
    /// Budgets of the clients API per person and minute.
    public var clientsAPILimits: ClientsAPILimits
    /// Token requests per app and minute.
    public var tokenRequestsPerMinute: Int
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    public var trustedProxies: Set<String> = []
    /// Who may read `/metrics`.
    public var metricsAccess = MetricsAccess(token: nil)

    /// Collects the dependencies.
    public init(
        database: any Database, people: any PersonStore, sessions: any SessionStore,
        signInFailures: any SignInFailureStore, passwordHasher: PasswordHasher, signInThrottle: SignInThrottle,
        clock: any TimeSource, secretKey: SymmetricKey, secureCookies: Bool,
        browserSessionLifetime: TimeInterval, apiTokenLifetime: TimeInterval, pages: PageRenderer, metrics: AppMetrics,
        clients: any ClientStore, clientLimits: ClientLimits, publicURL: URL, authorization: SQLAuthorizationStore,
        keys: KeyRing, revocations: RevocationSet, accessTokenLifetime: TimeInterval, codeLifetime: TimeInterval,
        refreshTokenLifetime: TimeInterval, directory: any PeopleDirectory, files: any FileStore, maxUploadBytes: Int,
        clientsAPILimits: ClientsAPILimits, tokenRequestsPerMinute: Int
    ) {
        self.clientsAPILimits = clientsAPILimits
        self.tokenRequestsPerMinute = tokenRequestsPerMinute
        self.directory = directory
        self.files = files
        self.maxUploadBytes = maxUploadBytes
        self.authorization = authorization
        self.keys = keys
        self.revocations = revocations
        self.accessTokenLifetime = accessTokenLifetime
        self.codeLifetime = codeLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
        self.clients = clients
        self.clientLimits = clientLimits
        self.publicURL = publicURL
        self.database = database
        self.people = people
        self.sessions = sessions
        self.signInFailures = signInFailures
        self.passwordHasher = passwordHasher
        self.signInThrottle = signInThrottle
        self.clock = clock
        self.secretKey = secretKey
        self.secureCookies = secureCookies
        self.browserSessionLifetime = browserSessionLifetime
        self.apiTokenLifetime = apiTokenLifetime
        self.pages = pages
        self.metrics = metrics
    }
}

/// What the HTTP layer hands to the application: the router, and the poller that keeps this
/// process's caches (revocations, keys, apps) in step with the database.
public struct WebComponents {
    public let router: Router<AppRequestContext>
    public let poller: StatePoller
}

/// Builds the router with every middleware and route.
public func buildWeb(_ dependencies: WebDependencies) -> WebComponents {
    let router = Router(context: AppRequestContext.self, options: [.autoGenerateHeadEndpoints])
    var dependencies = dependencies
    let clientCache = ClientCache(store: dependencies.clients)
    dependencies.clients = clientCache
    let signIn = SignInService(
        people: dependencies.people, sessions: dependencies.sessions, failures: dependencies.signInFailures,
        hasher: dependencies.passwordHasher, throttle: dependencies.signInThrottle, clock: dependencies.clock,
        browserSessionLifetime: dependencies.browserSessionLifetime, apiTokenLifetime: dependencies.apiTokenLifetime
    )
    let csrf = CSRFProtection(secretKey: dependencies.secretKey, secureCookies: dependencies.secureCookies)
    let pages = Pages(renderer: dependencies.pages, csrf: csrf)

    // Order matters: metrics see the final status; security headers go on error pages too;
    // the error middleware turns every thrown error into a response before them.
    router.add(middleware: RequestMetricsMiddleware(metrics: dependencies.metrics))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ExpectContinueMiddleware())
    if !dependencies.trustedProxies.isEmpty { router.add(middleware: TrustedProxyMiddleware(trusted: dependencies.trustedProxies)) }
    router.add(middleware: ErrorMiddleware())
    let verifier = AccessTokenVerifier(
        keys: dependencies.keys, revocations: dependencies.revocations, issuer: dependencies.publicURL.absoluteString, clock: dependencies.clock
    )
    let cors = OAuthCORS(store: dependencies.clients)
    let limiter = RateLimiter()
    // Who may call each route is declared where it is registered and checked by the gate for the
    // route the router matched (RouteAccess): no middleware looks at the path.
    let gate = RouteGate(
        authentication: CallerAuthentication(cookieName: csrf.cookies.session, signIn: signIn, verifier: verifier, people: dependencies.people),
        cors: cors, clients: dependencies.clients, limiter: limiter, limits: dependencies.clientsAPILimits, clock: dependencies.clock,
        publicOrigin: origin(of: dependencies.publicURL), metricsAccess: dependencies.metricsAccess
    )
    let routes = Routes(router: router, gate: gate)

    // The authorization server (SPEC §3).
    let issuer = dependencies.publicURL.absoluteString
    let store = dependencies.authorization
    let revoker = Revoker(revocations: dependencies.revocations, accessTokenLifetime: dependencies.accessTokenLifetime, clock: dependencies.clock)
    let grants = LocallyAppliedGrantStore(inner: store, revoker: revoker)
    let people = dependencies.people
    let tokenIssuer = TokenIssuer(issuer: issuer, accessTokenLifetime: dependencies.accessTokenLifetime)
    let grantContext = GrantContext(
        codes: store, refreshTokens: store, grants: grants, issuer: tokenIssuer,
        refreshTokenLifetime: dependencies.refreshTokenLifetime,
        personClaims: { id in try await people.find(id: PersonID(rawValue: id)).map(personClaims) }
    )
    let authenticator = ClientAuthenticator(lookup: dependencies.clients)
    DiscoveryController(issuer: issuer, keys: dependencies.keys).addRoutes(to: routes)
    TokenEndpoint(
        authenticator: authenticator, keys: dependencies.keys, grantContext: grantContext, cors: cors,
        metrics: dependencies.metrics, clock: dependencies.clock, limiter: limiter, requestsPerMinute: dependencies.tokenRequestsPerMinute
    ).addRoutes(to: routes)
    IntrospectionEndpoint(
        authenticator: authenticator, verifier: verifier, refreshTokens: store, grants: grants, cors: cors, issuer: issuer,
        clock: dependencies.clock
    ).addRoutes(to: routes)
    RevocationEndpoint(
        authenticator: authenticator, refreshTokens: store, grants: grants, keys: dependencies.keys, cors: cors, accessTokenLifetime: dependencies.accessTokenLifetime,
        clock: dependencies.clock
    ).addRoutes(to: routes)
    UserInfoEndpoint(verifier: verifier, people: people, lookup: dependencies.clients, cors: cors).addRoutes(to: routes)

    OperationsController(database: dependencies.database, metrics: dependencies.metrics).addRoutes(to: routes)
    SignInController(
        signIn: signIn, pages: pages, csrf: csrf, secureCookies: dependencies.secureCookies, clients: clientCache
    ).addRoutes(to: routes)
    AuthenticationController(signIn: signIn).addRoutes(to: routes)
    // The portal API that the scopes protect (SPEC §4).
    PeopleController(
        people: dependencies.people, directory: dependencies.directory, hasher: dependencies.passwordHasher,
        revoker: revoker, clock: dependencies.clock
    ).addRoutes(to: routes)
    let folderChecks = FolderAccessChecks(files: dependencies.files)
    RoomsController(files: dependencies.files, people: dependencies.people, checks: folderChecks, clock: dependencies.clock)
        .addRoutes(to: routes)
    FilesController(files: dependencies.files, checks: folderChecks, uploadLimit: dependencies.maxUploadBytes, clock: dependencies.clock)
        .addRoutes(to: routes)
    let management = ClientManagement(
        store: dependencies.clients, limits: dependencies.clientLimits, clock: dependencies.clock, revoker: revoker
    )
    let icons = ClientIcons(store: dependencies.clients, publicURL: dependencies.publicURL)
    icons.addRoutes(to: routes)
    ConsentsController(
        consents: dependencies.authorization, lookup: dependencies.clients, icons: icons, revoker: revoker, pages: pages, csrf: csrf
    ).addRoutes(to: routes)
    ClientsAPIController(management: management, icons: icons).addRoutes(to: routes)
    ClientPagesController(management: management, pages: pages, csrf: csrf).addRoutes(to: routes)

    // The pages of the authorization server, which need the signed-in person.
    AuthorizeController(
        lookup: dependencies.clients, consents: store, codes: store, pages: pages, csrf: csrf,
        bindingKey: SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("consent binding".utf8), using: dependencies.secretKey)),
        issuer: issuer, codeLifetime: dependencies.codeLifetime, clock: dependencies.clock, metrics: dependencies.metrics
    ).addRoutes(to: routes)
    LogoutEndpoint(
        keys: dependencies.keys, lookup: dependencies.clients, signIn: signIn, pages: pages, csrf: csrf, issuer: issuer,
        secureCookies: dependencies.secureCookies
    ).addRoutes(to: routes)
    routes.finish()
    precondition(routes.undeclared.isEmpty, "routes without a declaration of who may call them: \(routes.undeclared)")
    let poller = StatePoller(
        grants: store, revocations: dependencies.revocations, keys: dependencies.keys, clients: clientCache, clock: dependencies.clock
    )
    return WebComponents(router: router, poller: poller)
}

/// `scheme://host[:port]` of a URL (RFC 6454 §6.1), as browsers send it in `Origin`.
func origin(of url: URL) -> String {
    var text = "\(url.scheme ?? "http")://\(url.host ?? "")"
    if let port = url.port { text += ":\(port)" }
    return text
}
