import Foundation
import Crypto
import OAuthCore
import PortalCore

/// Settings › Developer Tools (SPEC §2, §7): the pages and the REST API for registering and managing
/// apps, their icons, the scope catalog and the apps a person has allowed; and API keys.
public struct DeveloperToolsFeature: Sendable {
    let clients: any ClientStore
    let limits: ClientLimits
    let consents: any ConsentStore
    let revoker: Revoker
    let pages: Pages
    let publicURL: URL
    let apiKeys: any APIKeyStore
    let apiKeysPerPerson: Int
    let once: any OnceStore
    let secretKey: SymmetricKey
    let developerTokens: DeveloperTokenIssuer
    let tokenRevocations: TokenRevocations
    let keys: KeyRing
    let people: any PersonStore
    let clock: any TimeSource

    public init(clients: any ClientStore, limits: ClientLimits, consents: any ConsentStore, revoker: Revoker, pages: Pages, publicURL: URL,
                apiKeys: any APIKeyStore, apiKeysPerPerson: Int, once: any OnceStore, secretKey: SymmetricKey,
                developerTokens: DeveloperTokenIssuer, tokenRevocations: TokenRevocations, keys: KeyRing, people: any PersonStore,
                clock: any TimeSource) {
        self.people = people
        self.developerTokens = developerTokens
        self.tokenRevocations = tokenRevocations
        self.keys = keys
        self.once = once
        self.secretKey = secretKey
        self.apiKeys = apiKeys
        self.apiKeysPerPerson = apiKeysPerPerson
        self.clients = clients
        self.limits = limits
        self.consents = consents
        self.revoker = revoker
        self.pages = pages
        self.publicURL = publicURL
        self.clock = clock
    }

    public func register(on routes: Routes) {
        let management = ClientManagement(store: clients, limits: limits, clock: clock, revoker: revoker)
        let pageOnce = PageOnce(store: once, secretKey: secretKey, sessionCookie: pages.csrf.cookies.session, clock: clock)
        let icons = ClientIcons(store: clients, publicURL: publicURL)
        let api = routes.group("/api/2.0")
        icons.addRoutes(to: routes.group("/icons"))
        ClientsAPIController(management: management, icons: icons).addRoutes(to: api)
        let oauthPages = routes.group("/developer-tools/oauth")
        ClientPagesController(management: management, pages: pages, csrf: pages.csrf, issuer: publicURL.absoluteString, once: pageOnce, people: people)
            .addRoutes(to: oauthPages)
        DeveloperTokenPagesController(
            management: management, developerTokens: developerTokens, revocations: tokenRevocations, keys: keys, pages: pages, csrf: pages.csrf,
            once: pageOnce, clock: clock
        ).addRoutes(to: oauthPages)
        ConsentsController(consents: consents, lookup: clients, icons: icons, revoker: revoker, pages: pages, csrf: pages.csrf)
            .addRoutes(api: api, profile: routes.group("/profile"))
        let keys = APIKeyManagement(keys: apiKeys, perPerson: apiKeysPerPerson, clock: clock)
        APIKeysController(management: keys).addRoutes(to: api)
        APIKeyPagesController(management: keys, pages: pages, csrf: pages.csrf, once: pageOnce).addRoutes(to: routes.group("/developer-tools/api-keys"))
    }
}
