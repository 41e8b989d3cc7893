import Foundation
import Hummingbird
import OAuthCore
import PortalCore
import Synchronization

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
    /// A person's API key (SPEC §7): its creator, only within the key's permissions, like an app's scopes.
    case apiKey(APIKeyCaller)

    /// The person on whose behalf the request is made.
    public var person: Person {
        switch self {
        case .browser(let signedIn), .portalToken(let signedIn): signedIn.person
        case .app(let app): app.person
        case .apiKey(let key): key.person
        }
    }

    /// The person's own session or portal token; `nil` for an app or a key, which have neither.
    public var signedIn: SignedIn? {
        switch self {
        case .browser(let signedIn), .portalToken(let signedIn): signedIn
        case .app, .apiKey: nil
        }
    }

    /// Whether the caller holds one of `scopes`; a person's own session or portal token holds them all.
    func grantsAny(of scopes: [String]) -> Bool {
        switch self {
        case .browser, .portalToken: return true
        case .app(let app): return app.claims.grantsAny(of: scopes)
        case .apiKey(let caller):
            let held = caller.key.scopes
            return scopes.contains(where: held.contains)
        }
    }
}

/// A person calling with one of their API keys. A class, like `AppCaller`.
public final class APIKeyCaller: Sendable {
    public let person: Person
    public let key: APIKey

    init(person: Person, key: APIKey) {
        self.person = person
        self.key = key
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
    let apiKeys: any APIKeyStore
    let keyUses: APIKeyUses
    let clock: any TimeSource

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
            // An API key by its exact form (a portal token never starts with `sk-`); one that is
            // unknown, inactive or expired is `invalid_token`, like a bad access token.
            if APIKeyRules.hasKeyForm(credentials) {
                let now = clock.now
                guard let (key, person) = try await apiKeys.find(secretHash: OpaqueToken.hash(String(credentials))), key.isUsable(at: now)
                else { return .invalidAccessToken }
                if keyUses.shouldRecord(key.id, at: now) { try await apiKeys.touch(id: key.id, at: now) }
                return .caller(.apiKey(APIKeyCaller(person: person, key: key)))
            }
            if credentials.hasPrefix("sk-") { return .invalidAccessToken }
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

/// When each API key's use was last written, so that "last used" costs at most one write a minute
/// per key and process rather than one per request.
final class APIKeyUses: Sendable {
    private let written = Mutex<[String: Date]>([:])
    static let interval: TimeInterval = 60

    /// Whether this use should be written (and notes that it is).
    func shouldRecord(_ id: String, at now: Date) -> Bool {
        written.withLock { written in
            if let last = written[id], now.timeIntervalSince(last) < Self.interval { return false }
            if written.count > 100_000 { written.removeAll(keepingCapacity: true) }
            written[id] = now
            return true
        }
    }
}
