import Foundation
import Hummingbird
import Logging
import OAuthCore
import PortalCore
import Storage

/// Checks a person's email and password, with throttling, and opens sessions. Used by the sign-in
/// form and by `POST /api/2.0/authentication` alike.
public struct SignInService: Sendable {
    let people: any PersonStore
    let sessions: any SessionStore
    let failures: any SignInFailureStore
    let hasher: PasswordHasher
    let throttle: SignInThrottle
    let clock: any TimeSource
    let browserSessionLifetime: TimeInterval
    let apiTokenLifetime: TimeInterval
    let decoy: DecoyHash

    /// The one answer for an unknown email and a wrong password alike (OWASP Authentication:
    /// never tell which part was wrong).
    static let wrongCredentials = "The email or password is incorrect."

    public init(
        people: any PersonStore, sessions: any SessionStore, failures: any SignInFailureStore,
        hasher: PasswordHasher, throttle: SignInThrottle, clock: any TimeSource,
        browserSessionLifetime: TimeInterval, apiTokenLifetime: TimeInterval
    ) {
        self.people = people
        self.sessions = sessions
        self.failures = failures
        self.hasher = hasher
        self.throttle = throttle
        self.clock = clock
        self.browserSessionLifetime = browserSessionLifetime
        self.apiTokenLifetime = apiTokenLifetime
        self.decoy = DecoyHash(hasher: hasher)
    }

    /// The person whose email and password these are; throws `AppError` (400, 401 or 429).
    func authenticate(email rawEmail: String, password: String, clientAddress: String) async throws -> Person {
        let email = rawEmail.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !email.isEmpty, !password.isEmpty else {
            throw AppError.badRequest("Email and password are required.")
        }
        guard email.count <= NewPerson.maximumEmailLength else {
            throw AppError.badRequest("The email must be at most \(NewPerson.maximumEmailLength) characters.")
        }
        guard password.count <= NewPerson.maximumPasswordLength else {
            throw AppError.badRequest("The password must be at most \(NewPerson.maximumPasswordLength) characters.")
        }
        let now = clock.now
        let accountKey = SignInThrottle.accountKey(email)
        let addressKey = SignInThrottle.addressKey(clientAddress)
        let since = throttle.windowStart(now: now)
        let decision = throttle.decide(
            accountFailures: try await failures.failures(key: accountKey, since: since),
            addressFailures: try await failures.failures(key: addressKey, since: since),
            now: now
        )
        if case .throttled(let retryAfter) = decision {
            throw AppError.tooManyRequests(
                retryAfter: retryAfter, message: "Too many failed sign-in attempts. Try again in \(retryAfter) seconds."
            )
        }
        let found = try await people.credentials(email: email)
        let storedHash: String
        if let found { storedHash = found.passwordHash } else { storedHash = try await decoy.value() }
        let matches = try await hasher.verify(password, hash: storedHash)
        guard let found, matches else {
            try await failures.recordFailure(keys: [accountKey, addressKey], at: now)
            throw AppError.unauthorized(Self.wrongCredentials)
        }
        try await failures.clear(key: accountKey)
        if hasher.needsRehash(found.passwordHash) {
            // The work factor setting changed: the password is at hand now, and only now.
            _ = try await people.upgradePasswordHash(found.passwordHash, to: try await hasher.hash(password), for: found.person.id)
        }
        return found.person
    }

    /// Opens a session for `person` and answers its token (shown to the client once, stored hashed).
    func openSession(for person: Person, kind: SessionKind) async throws -> (token: String, session: Session) {
        let token = OpaqueToken.generate()
        let now = clock.now
        let lifetime = kind == .browser ? browserSessionLifetime : apiTokenLifetime
        let session = Session(
            tokenHash: OpaqueToken.hash(token), personID: person.id, kind: kind,
            authenticatedAt: now, expiresAt: now.addingTimeInterval(lifetime)
        )
        try await sessions.create(session)
        return (token, session)
    }

    /// The live session of a token, if any.
    func resolve(token: String) async throws -> SignedIn? {
        guard let found = try await sessions.find(tokenHash: OpaqueToken.hash(token), now: clock.now) else { return nil }
        return SignedIn(person: found.person, session: found.session)
    }

    /// Ends the session of a token.
    func end(token: String) async throws {
        try await sessions.delete(tokenHash: OpaqueToken.hash(token))
    }

    /// Ends the session whose token the browser sent in the cookie `name` (sign-out, a new sign-in).
    func endSession(of request: Request, cookie name: String) async throws {
        if let token = request.cookie(name), token.utf8.count <= 128 { try await end(token: token) }
    }
}

/// A bcrypt hash of a random password, made on first use with the configured cost, so that an
/// unknown email costs as much time as a wrong password.
actor DecoyHash {
    private let hasher: PasswordHasher
    private var hash: String?

    init(hasher: PasswordHasher) { self.hasher = hasher }

    func value() async throws -> String {
        if let hash { return hash }
        let made = try await hasher.hash(OpaqueToken.generate())
        hash = made
        return made
    }
}
