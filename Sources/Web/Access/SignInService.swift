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
    /// Password checks under way or waiting in this process, bounded.
    let checks: PasswordCheckQueue

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
        self.decoy = DecoyHash(hasher: hasher, people: people)
        self.checks = .standard()
    }

    /// Signs a person in: checks the email and password (`verify`), then opens a session of `kind`
    /// and answers its token (shown to the client once, stored hashed). The session is stored only
    /// while the password is still the one verified; throws `AppError` (400, 401 or 429).
    func signIn(email: String, password: String, clientAddress: String, kind: SessionKind) async throws
        -> (person: Person, token: String, session: Session)
    {
        let verified = try await verify(email: email, password: password, clientAddress: clientAddress)
        let token = OpaqueToken.generate()
        let now = clock.now
        let lifetime = kind == .browser ? browserSessionLifetime : apiTokenLifetime
        let session = Session(
            tokenHash: OpaqueToken.hash(token), personID: verified.person.id, kind: kind,
            authenticatedAt: now, expiresAt: now.addingTimeInterval(lifetime)
        )
        guard try await sessions.create(session, whilePasswordHashIs: verified.passwordHash) else {
            throw AppError.unauthorized(Self.wrongCredentials)
        }
        return (verified.person, token, session)
    }

    /// The person whose email and password these are, with the password hash as it is stored after
    /// the check; throws `AppError` (400, 401 or 429).
    private func verify(email rawEmail: String, password: String, clientAddress: String) async throws
        -> (person: Person, passwordHash: String)
    {
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
        return try await checks.run { try await check(email: email, password: password, clientAddress: clientAddress) }
    }

    /// The throttle's reservation, then the password check (`verify`, after its input rules).
    private func check(email: String, password: String, clientAddress: String) async throws -> (person: Person, passwordHash: String) {
        let now = clock.now
        let keys = SignInThrottle.keys(email: email, address: clientAddress)
        // The attempt counts as a failure from before its password is checked until it succeeds, so
        // concurrent attempts can never check more passwords than the limits allow.
        let attempt = OpaqueToken.generate()
        let throttle = self.throttle
        let decision = try await failures.reserve(keys: keys, attempt: attempt, at: now, since: throttle.windowStart(now: now)) { failures in
            throttle.decide(failures: failures, now: now)
        }
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
            throw AppError.unauthorized(Self.wrongCredentials)  // the reservation stays, as this failure
        }
        try await failures.release(attempt: attempt)
        // The person's own mistakes from this address are forgotten; guesses elsewhere age out.
        try await failures.clear(key: SignInThrottle.accountAndAddressKey(email, clientAddress))
        if hasher.needsRehash(found.passwordHash), let remade = try? await hasher.hash(password),
           (try? await people.upgradePasswordHash(found.passwordHash, to: remade, for: found.person.id)) == true
        {
            // The work factor setting changed: the password is at hand now, and only now. When the
            // hash changed meanwhile (a new password), the session below is refused.
            return (found.person, remade)
        }
        return (found.person, found.passwordHash)
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

/// What an unknown email's sign-in verifies against: a bcrypt hash of a random password with the
/// work factor of a real account's hash, chosen at random, so that it takes as long as a wrong
/// password for an account would, also while stored hashes of an older work factor remain (they are
/// re-made at each person's next sign-in). One hash per work factor, made on first use.
actor DecoyHash {
    private let hasher: PasswordHasher
    private let people: any PersonStore
    private var byCost: [UInt8: String] = [:]

    init(hasher: PasswordHasher, people: any PersonStore) {
        self.hasher = hasher
        self.people = people
    }

    func value() async throws -> String {
        let sampled = try await people.samplePasswordHash().flatMap(PasswordHasher.cost(of:))
        let cost = sampled ?? hasher.cost
        if let made = byCost[cost] { return made }
        let made = try await PasswordHasher(cost: cost).hash(OpaqueToken.generate())
        byCost[cost] = made
        return made
    }
}
