import Foundation

/// Storage of people, as the portal's rules need it.
public protocol PersonStore: Sendable {
    /// Stores a new person with a password hash; `PersonInputError.emailTaken` when the email is in use.
    func create(_ person: Person, passwordHash: String) async throws
    /// The person with this id.
    func find(id: PersonID) async throws -> Person?
    /// The person with this (lowercased) email and their password hash.
    func credentials(email: String) async throws -> (person: Person, passwordHash: String)?
    /// How many people there are.
    func count() async throws -> Int
    /// `true` when someone has the `owner` role.
    func hasOwner() async throws -> Bool
    /// Replaces a person's password hash and ends every session and portal token of theirs, in one
    /// transaction; `false` when the person is gone.
    func setPasswordHash(_ hash: String, for id: PersonID, at now: Date) async throws -> Bool
    /// Replaces the hash `old` of the same password by `new` (made with other parameters), sessions
    /// untouched; `false` when the hash is no longer `old` (the password changed meanwhile).
    func upgradePasswordHash(_ old: String, to new: String, for id: PersonID) async throws -> Bool
    /// The password hash of a person chosen at random (`nil` when there is nobody): what an unknown
    /// email's sign-in is made to cost, so that it takes as long as a real account's.
    func samplePasswordHash() async throws -> String?
}

/// What kind of sign-in a session came from.
public enum SessionKind: String, Sendable, Codable {
    /// A browser cookie from `POST /login`.
    case browser
    /// A token from `POST /api/2.0/authentication`.
    case api
}

/// A signed-in session; the token itself is never stored, only its hash.
public struct Session: Sendable, Equatable {
    /// SHA-256 of the session token.
    public var tokenHash: String
    /// Who signed in.
    public var personID: PersonID
    /// Browser or API.
    public var kind: SessionKind
    /// When the person proved their password (OIDC `auth_time`).
    public var authenticatedAt: Date
    /// When the session stops working.
    public var expiresAt: Date

    /// Creates a session value.
    public init(tokenHash: String, personID: PersonID, kind: SessionKind, authenticatedAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.personID = personID
        self.kind = kind
        self.authenticatedAt = authenticatedAt
        self.expiresAt = expiresAt
    }
}

/// Storage of sessions, shared by every process.
public protocol SessionStore: Sendable {
    /// Stores a new session.
    func create(_ session: Session) async throws
    /// Stores a new session only while its person's password hash is still `passwordHash`, the one
    /// just verified, in one statement: a sign-in checked against a password that was changed
    /// meanwhile (and whose sessions were ended) opens none. `false` when it was changed.
    func create(_ session: Session, whilePasswordHashIs passwordHash: String) async throws -> Bool
    /// The live session with this token hash and its person; `nil` when unknown or expired.
    func find(tokenHash: String, now: Date) async throws -> (session: Session, person: Person)?
    /// Ends one session.
    func delete(tokenHash: String) async throws
    /// Ends every session of a person.
    func deleteAll(for personID: PersonID) async throws
}

/// Storage of failed sign-in attempts, shared by every process so limits hold across them.
public protocol SignInFailureStore: Sendable {
    /// The instants of failures recorded for `key` after `since`.
    func failures(key: String, since: Date) async throws -> [Date]
    /// Reserves a place in the failure counts of `keys` for an attempt about to check a password,
    /// atomically across processes: `decide` sees each key's failures and reservations after `since`
    /// (in the order of `keys`), and only when it allows is a row recorded for each key under
    /// `attempt`. So no more attempts are ever checked than the limits allow, however many arrive at
    /// once. A successful attempt then releases its rows (`release`); a failed one leaves them as its
    /// failures.
    func reserve(
        keys: [String], attempt: String, at: Date, since: Date, decide: @Sendable (_ failures: [[Date]]) -> SignInThrottle.Decision
    ) async throws -> SignInThrottle.Decision
    /// Removes the rows `reserve` made for `attempt`.
    func release(attempt: String) async throws
    /// Forgets the failures of `key` (after a successful sign-in).
    func clear(key: String) async throws
}

/// Reading and changing accounts for the people API.
public protocol PeopleDirectory: Sendable {
    /// Accounts in email order; `text` filters on name or email (case-insensitive); and the total matching.
    func list(text: String?, offset: Int, limit: Int) async throws -> (people: [Person], total: Int)
    /// Changes names and role; `false` when the person is gone.
    func update(_ person: Person) async throws -> Bool
    /// Removes a person with their sessions, consents, grants, My documents and room memberships, and
    /// records the removal in the revocation feed; `false` when the person is gone.
    func remove(_ id: PersonID, at now: Date, feedExpiry: Date) async throws -> Bool
}

/// What the portal's pages keep for a moment (SPEC §7): a secret shown once after Post/Redirect/Get,
/// sealed and bound to the session that made it, and the single-use tokens of forms that must not act
/// twice. Each kept row has an expiry; housekeeping removes it after.
public protocol OnceStore: Sendable {
    /// Keeps `sealed` for `owner` (a session's hash) until `until`.
    func keep(id: String, owner: String, sealed: Data, until: Date) async throws
    /// Takes (and removes) what `keep` stored under `id` for `owner`, if it has not expired.
    func take(id: String, owner: String, now: Date) async throws -> Data?
    /// Claims a form's token: `nil` when this is its first submission (claimed now), else what the first
    /// submission recorded (empty while it is still under way).
    func claim(formToken: String, owner: String, until: Date) async throws -> String?
    /// Records what the first submission of `formToken` made.
    func record(formToken: String, result: String) async throws
    /// Gives a claimed token back (its submission was refused and may be sent again).
    func release(formToken: String) async throws
}
