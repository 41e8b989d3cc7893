import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// Who is calling, established once per request by `CallerAuthentication` for the route the
/// router matched. Handlers, CORS and the audit log read this value; nothing else parses the
/// `Authorization` header or the session cookie.
public enum Caller: Sendable {
    /// A person in a browser, by the `gh_session` cookie (or its token as a bearer).
    case browser(SignedIn)
    /// A person by a portal token from `POST /api/2.0/authentication`: the person's full rights.
    case portalToken(SignedIn)
    /// An app acting for a person with an OAuth access token (RFC 9068): only within its scopes.
    case app(AppCaller)

    /// The person on whose behalf the request is made.
    public var person: Person {
        switch self {
        case .browser(let signedIn), .portalToken(let signedIn): signedIn.person
        case .app(let app): app.person
        }
    }

    /// The person's own session or portal token; `nil` for an app, which has neither.
    public var signedIn: SignedIn? {
        switch self {
        case .browser(let signedIn), .portalToken(let signedIn): signedIn
        case .app: nil
        }
    }
}

/// An app calling for a person with an OAuth access token. A class, so the request context that
/// carries it stays small as it is copied along the route.
public final class AppCaller: Sendable {
    /// The person who consented.
    public let person: Person
    /// The app.
    public let clientID: ClientID
    /// The verified claims: scopes, grant, audience, times.
    public let claims: AccessTokenClaims

    init(person: Person, clientID: ClientID, claims: AccessTokenClaims) {
        self.person = person
        self.clientID = clientID
        self.claims = claims
    }
}

/// The one authentication step (RFC 6750 §2.1 bearer, or the session cookie). A bearer with a `.` is
/// an access token (RFC 7515 §7.1: a JWS has dot-separated parts) and a portal token has none.
struct CallerAuthentication: Sendable {
    /// The session cookie's name (`__Host-` on https).
    let cookieName: String
    let signIn: SignInService
    let verifier: AccessTokenVerifier
    let people: any PersonStore

    /// What the credentials of a request establish.
    enum Outcome: Sendable {
        /// No credentials, or a session or portal token that is unknown or expired.
        case nobody
        case caller(Caller)
        /// An access token that is malformed, badly signed, expired or revoked (RFC 6750 §3.1 `invalid_token`).
        case invalidAccessToken
    }

    /// Reads the bearer (or, without one, the session cookie) of a request. A credential sent as a
    /// bearer makes a `.portalToken` caller, one sent as the cookie a `.browser` caller: only the
    /// cookie rides along with a cross-site request, so only it needs proof of where a change came from.
    func authenticate(_ request: Request, acceptingBearer: Bool) async throws -> Outcome {
        if acceptingBearer, let credentials = AccessTokenVerifier.bearerCredentials(request.headers.value(.authorization)) {
            if credentials.utf8.contains(UInt8(ascii: ".")) {
                guard let claims = verifier.verify(String(credentials)),
                      let person = try await people.find(id: PersonID(rawValue: claims.sub))
                else { return .invalidAccessToken }
                return .caller(.app(AppCaller(person: person, clientID: ClientID(rawValue: claims.client_id), claims: claims)))
            }
            guard let signedIn = try await session(String(credentials)) else { return .nobody }
            return .caller(.portalToken(signedIn))
        }
        guard let cookie = request.cookie(cookieName), let signedIn = try await session(cookie) else { return .nobody }
        return .caller(.browser(signedIn))
    }

    /// The browser session of the cookie alone, for pages: a portal token is not a browser session.
    func browserSession(_ request: Request) async throws -> SignedIn? {
        guard let cookie = request.cookie(cookieName), let signedIn = try await session(cookie),
              signedIn.session.kind == .browser
        else { return nil }
        return signedIn
    }

    private func session(_ token: String) async throws -> SignedIn? {
        guard token.utf8.count <= 128 else { return nil }
        return try await signIn.resolve(token: token)
    }
}
