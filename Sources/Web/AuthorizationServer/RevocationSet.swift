import Foundation
import OAuthCore
import Synchronization

/// What has been revoked, in memory, fed from the append-only `revocations` table: every process
/// polls it each second, and the process that revokes applies the entry at once.
public final class RevocationSet: Sendable {
    struct ConsentKey: Hashable, Sendable {
        let client: String
        let person: String
    }

    struct State: Sendable {
        var lastID = 0
        var tokens: [String: Date] = [:]
        var grants: [String: Date] = [:]
        var clients: [String: Int64] = [:]
        var consents: [ConsentKey: Int64] = [:]
        var people: [String: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The id of the last entry applied.
    public var lastID: Int { state.withLock { $0.lastID } }

    /// Applies entries (in any order; each once).
    public func apply(_ entries: [RevocationEntry]) {
        state.withLock { state in
            for entry in entries {
                state.lastID = max(state.lastID, entry.id)
                let at = entry.createdAtMilliseconds
                switch entry.revocation {
                case .token(let jti): state.tokens[jti] = entry.expiresAt
                case .grant(let id): state.grants[id.rawValue] = entry.expiresAt
                case .client(let client): state.clients[client.rawValue] = max(state.clients[client.rawValue] ?? 0, at)
                case .consent(let client, let person):
                    let key = ConsentKey(client: client.rawValue, person: person.rawValue)
                    state.consents[key] = max(state.consents[key] ?? 0, at)
                case .person(let id): state.people[id.rawValue] = max(state.people[id.rawValue] ?? 0, at)
                case .clientChanged: break
                }
            }
        }
    }

    /// Applies a revocation this process has just made, before the feed brings it round.
    func applyNow(_ revocation: Revocation, at now: Date, expiresAt: Date) {
        apply([RevocationEntry(id: 0, revocation: revocation, createdAtMilliseconds: now.milliseconds, expiresAt: expiresAt)])
    }

    /// Forgets entries whose tokens have all expired.
    public func prune(now: Date) {
        state.withLock { state in
            state.tokens = state.tokens.filter { $0.value > now }
            state.grants = state.grants.filter { $0.value > now }
        }
    }

    /// `true` when the access token was revoked in any way.
    public func isRevoked(_ claims: AccessTokenClaims) -> Bool {
        // Tokens carry whole seconds; anything issued up to the end of the revoking second is out.
        let issued = claims.iat * 1000
        return state.withLock { state in
            if state.tokens[claims.jti] != nil || state.grants[claims.gid] != nil { return true }
            if let at = state.clients[claims.client_id], issued <= at { return true }
            if let at = state.consents[ConsentKey(client: claims.client_id, person: claims.sub)], issued <= at { return true }
            if let at = state.people[claims.sub], issued <= at { return true }
            return false
        }
    }
}

/// The one way Gatehouse revokes: the store writes the feed entry in the same transaction as the
/// change it belongs to (a removed person, a withdrawn consent, a disabled app, a revoked grant), and
/// the revoker applies it in this process at once; other processes learn it from the feed within a
/// second. It also says how long the feed keeps an entry: until every token it covers has expired.
public struct Revoker: Sendable {
    let revocations: RevocationSet
    /// The longest an access token lives (a developer token's lifetime when that is longer).
    let accessTokenLifetime: TimeInterval
    let clock: any TimeSource

    public init(revocations: RevocationSet, accessTokenLifetime: TimeInterval, clock: any TimeSource) {
        self.revocations = revocations
        self.accessTokenLifetime = accessTokenLifetime
        self.clock = clock
    }

    /// When the feed may forget an entry made at `now`.
    func feedExpiry(at now: Date) -> Date { TokenIssuer.everyTokenExpired(issuedAt: now, lifetime: accessTokenLifetime) }

    /// Runs `write(now, feedExpiry)` — the store's change with its feed entry — and, when it changed
    /// something, applies `revocation` here. Answers what `write` answered.
    @discardableResult
    func revoke(_ revocation: Revocation, write: (Date, Date) async throws -> Bool) async throws -> Bool {
        let now = clock.now
        let expiry = feedExpiry(at: now)
        guard try await write(now, expiry) else { return false }
        revocations.applyNow(revocation, at: now, expiresAt: expiry)
        return true
    }

    /// Applies a revocation a store has already recorded at `now` with `expiry`.
    func applied(_ revocation: Revocation, at now: Date, expiry: Date) {
        revocations.applyNow(revocation, at: now, expiresAt: expiry)
    }
}

/// A `GrantStore` whose revocations the revoker also applies in this process at once (refresh-token
/// reuse in the grants, and `/oauth2/revoke`).
struct LocallyAppliedGrantStore: GrantStore {
    let inner: any GrantStore
    let revoker: Revoker

    func isActive(grantID: GrantID) async throws -> Bool { try await inner.isActive(grantID: grantID) }

    func revoke(grantID: GrantID, at now: Date, feedExpiry: Date) async throws {
        try await inner.revoke(grantID: grantID, at: now, feedExpiry: feedExpiry)
        revoker.applied(.grant(id: grantID), at: now, expiry: feedExpiry)
    }

    func record(_ revocation: Revocation, at now: Date, feedExpiry: Date) async throws {
        try await inner.record(revocation, at: now, feedExpiry: feedExpiry)
        revoker.applied(revocation, at: now, expiry: feedExpiry)
    }

    func revocations(after id: Int, now: Date) async throws -> [RevocationEntry] { try await inner.revocations(after: id, now: now) }
}

/// A `DeveloperTokenStore` whose revocations (the token a new one replaces, a revoked one) the revoker
/// also applies in this process at once; the store writes their feed entries.
public struct LocallyAppliedDeveloperTokenStore: DeveloperTokenStore {
    let inner: any DeveloperTokenStore
    let revoker: Revoker

    public init(inner: any DeveloperTokenStore, revoker: Revoker) {
        self.inner = inner
        self.revoker = revoker
    }

    public func open(_ token: DeveloperToken, feedExpiry: Date) async throws -> GrantID? {
        let replaced = try await inner.open(token, feedExpiry: feedExpiry)
        if let replaced { revoker.applied(.grant(id: replaced), at: token.createdAt, expiry: feedExpiry) }
        return replaced
    }

    public func current(clientID: ClientID, personID: SubjectID, now: Date) async throws -> DeveloperToken? {
        try await inner.current(clientID: clientID, personID: personID, now: now)
    }

    public func revokeDeveloperToken(grantID: GrantID, at now: Date, feedExpiry: Date) async throws -> Bool {
        guard try await inner.revokeDeveloperToken(grantID: grantID, at: now, feedExpiry: feedExpiry) else { return false }
        revoker.applied(.grant(id: grantID), at: now, expiry: feedExpiry)
        return true
    }

    public func revokeCurrent(clientID: ClientID, personID: SubjectID, grantID: GrantID?, at now: Date, feedExpiry: Date) async throws -> GrantID? {
        let revoked = try await inner.revokeCurrent(clientID: clientID, personID: personID, grantID: grantID, at: now, feedExpiry: feedExpiry)
        if let revoked { revoker.applied(.grant(id: revoked), at: now, expiry: feedExpiry) }
        return revoked
    }
}
