import Foundation

/// How many apps may exist (SPEC §2: settings, 100 per portal and 10 per person by default).
public struct ClientLimits: Sendable, Equatable {
    public var perPortal: Int
    public var perPerson: Int
    public init(perPortal: Int, perPerson: Int) {
        self.perPortal = perPortal
        self.perPerson = perPerson
    }
}

/// A create refused because a limit was reached.
public enum ClientLimitReached: Error, Equatable, Sendable {
    case portal(Int)
    case person(Int)
    /// Apps that registered themselves may fill at most half of the portal's limit (SPEC §6).
    case selfRegistered(Int)
}

extension ClientLimitReached {
    /// The refusal told to an app that registers itself or is known by its metadata document (SPEC §6);
    /// `whose` names such apps ("that registers itself", "it has not registered").
    public func sentence(forAppsThat whose: String) -> String {
        switch self {
        case .selfRegistered(let n): "This portal has no room for another app \(whose) (at most \(n)); ask its admin."
        case .portal(let n), .person(let n): "This portal has its maximum of \(n) apps; ask its admin."
        }
    }
}

/// Registration attempts per client address, counted in the database so that every process shares
/// the count (SPEC §6: dynamic registration and metadata fetches are rate-limited per address).
public protocol RegistrationThrottle: Sendable {
    /// Records an attempt from `address` unless `limit` attempts were made within `window`;
    /// `false` (nothing recorded) when the limit is reached.
    func admit(address: String, at: Date, window: TimeInterval, limit: Int) async throws -> Bool
}

/// Where keyset pagination continues: after this creation time and client id.
public struct ClientPageCursor: Sendable, Equatable {
    public let createdOn: Date
    public let clientID: ClientID
    public init(createdOn: Date, clientID: ClientID) {
        self.createdOn = createdOn
        self.clientID = clientID
    }
}

/// Filters of the audit log.
public struct ClientAuditFilter: Sendable {
    public var clientID: ClientID?
    public var actorID: String?
    public var action: ClientAuditAction?
    public var since: Date?
    public var until: Date?
    public init(clientID: ClientID? = nil, actorID: String? = nil, action: ClientAuditAction? = nil, since: Date? = nil, until: Date? = nil) {
        self.clientID = clientID
        self.actorID = actorID
        self.action = action
        self.since = since
        self.until = until
    }
}

extension ClientStore {
    /// The app a path of the clients API or Developer Tools names (SPEC §6 `id`: a UUID in any case);
    /// `nil` for anything else, without asking the store.
    public func find(managedID text: String) async throws -> RegisteredClient? {
        guard UUID(uuidString: text) != nil else { return nil }
        return try await find(id: text.lowercased())
    }
}

/// Reading one app by id: all that the authorization endpoints need.
public protocol ClientLookup: Sendable {
    /// The app, enabled or not.
    func find(_ clientID: ClientID) async throws -> RegisteredClient?
}

/// Registering and managing apps; every change is written with its audit line in one transaction.
public protocol ClientStore: ClientLookup {
    /// Stores a new app with its icon, unless a limit is reached (`ClientLimitReached`).
    func create(_ client: RegisteredClient, logo: Icon, limits: ClientLimits) async throws
    /// The app whose `id` (SPEC §6: the clients API's and Developer Tools' paths) this is: the
    /// `client_id` of an app registered here, the opaque id of one known by its metadata document.
    func find(id: String) async throws -> RegisteredClient?
    /// The app's icon.
    func logo(_ clientID: ClientID) async throws -> Icon?
    /// Apps in creation order (oldest first), optionally only those of one person, after a cursor.
    func list(createdBy: String?, after: ClientPageCursor?, limit: Int) async throws -> [RegisteredClient]
    /// Replaces the app's fields (and icon when given); `false` when it no longer exists.
    func update(_ client: RegisteredClient, logo: Icon?, stamp: ChangeStamp, changedFields: [String]) async throws -> Bool
    /// RFC 7592 §3: replaces the registration access token's hash, only while it is still `current`
    /// (of two requests with one token, one gets the new token); `false` otherwise.
    func replaceRegistrationToken(_ clientID: ClientID, current: String, next: String) async throws -> Bool
    /// Replaces the secret hash; `false` when the app no longer exists.
    func replaceSecret(_ clientID: ClientID, secretHash: String, stamp: ChangeStamp) async throws -> Bool
    /// Enables or disables the app; `false` when it no longer exists.
    func setEnabled(_ clientID: ClientID, _ enabled: Bool, stamp: ChangeStamp) async throws -> Bool
    /// Deletes the app with everything that hangs on it; `false` when it did not exist.
    func delete(_ clientID: ClientID, stamp: ChangeStamp) async throws -> Bool
    /// Every origin registered by an enabled app (CORS preflights).
    func enabledOrigins() async throws -> Set<String>
    /// Audit lines, newest first.
    func auditLog(_ filter: ClientAuditFilter, limit: Int) async throws -> [ClientAuditEntry]
}
