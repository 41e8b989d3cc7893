import Hummingbird
import PortalCore

/// Finds who is calling: the `gh_session` cookie for pages, `Authorization: Bearer <portal token>`
/// for the API. A bearer value shaped like a JWT (it has a `.`; a portal token has none) is an OAuth access
/// token and is left to the bearer-token middleware of the portal API.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let cookieName = "gh_session"
    let signIn: SignInService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = Self.portalToken(request) ?? request.cookies[Self.cookieName]?.value,
           token.utf8.count <= 128
        {
            context.signedIn = try await signIn.resolve(token: token)
        }
        return try await next(request, context)
    }

    /// The portal token of an `Authorization: Bearer` header, when it is not a JWT (copied out of the
    /// header only then: an access token is several hundred bytes). A portal token has no `.`; the
    /// search stops at the first one, at the end of a JWT's header.
    static func portalToken(_ request: Request) -> String? {
        guard let token = AccessTokenVerifier.bearerCredentials(request.headers.value(.authorization)),
              !token.utf8.contains(UInt8(ascii: "."))
        else { return nil }
        return String(token)
    }
}
