import OAuthCore

/// The sign-in form, sign-out, the home page and the static files.
public struct SignInFeature: Sendable {
    let signIn: SignInService
    let pages: Pages
    let clients: any ClientLookup

    public init(signIn: SignInService, pages: Pages, clients: any ClientLookup) {
        self.signIn = signIn
        self.pages = pages
        self.clients = clients
    }

    public func register(on routes: Routes) {
        SignInController(signIn: signIn, pages: pages, csrf: pages.csrf, clients: clients).addRoutes(to: routes)
    }
}
