import Foundation
import OAuthCore
import Synchronization

/// What has been revoked, in memory, fed from the append-only `revocations` table: every process
/// polls it each second, and the process that revokes applies the entry at once.
public final class RevocationSet: Sendable {
    struct State: Sendable {
        var lastID = 0
        var tokens: [String: Date] = [:]
        var grants: [String: Date] = [:]
        var clients: [String: Int64] = [:]
        var consents: [String: Int64] = [:]
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
                switch entry.kind {
                case .token: state.tokens[entry.value] = entry.expiresAt
                case .grant: state.grants[entry.value] = entry.expiresAt
                case .client: state.clients[entry.value] = max(state.clients[entry.value] ?? 0, entry.createdAtMilliseconds)
                case .consent: state.consents[entry.value] = max(state.consents[entry.value] ?? 0, entry.createdAtMilliseconds)
                case .person: state.people[entry.value] = max(state.people[entry.value] ?? 0, entry.createdAtMilliseconds)
                case .clientChanged: break
                }
            }
        }
    }

    /// Applies a revocation this process has just made, before the feed brings it round.
    public func applyNow(_ kind: RevocationEntry.Kind, value: String, at now: Date, expiresAt: Date) {
        apply([RevocationEntry(id: 0, kind: kind, value: value, createdAtMilliseconds: now.milliseconds, expiresAt: expiresAt)])
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
            if let at = state.consents["\(claims.client_id) \(claims.sub)"], issued <= at { return true }
            if let at = state.people[claims.sub], issued <= at { return true }
            return false
        }
    }
}

/// A `GrantStore` that also applies each revocation to this process's `RevocationSet` at once;
/// other processes learn it from the feed within a second.
struct LocallyAppliedGrantStore: GrantStore {
    let inner: any GrantStore
    let revocations: RevocationSet

    func isActive(grantID: String) async throws -> Bool { try await inner.isActive(grantID: grantID) }

    func revoke(grantID: String, at now: Date, feedExpiry: Date) async throws {
        try await inner.revoke(grantID: grantID, at: now, feedExpiry: feedExpiry)
        revocations.applyNow(.grant, value: grantID, at: now, expiresAt: feedExpiry)
    }

    func record(_ kind: RevocationEntry.Kind, value: String, at now: Date, feedExpiry: Date) async throws {
        try await inner.record(kind, value: value, at: now, feedExpiry: feedExpiry)
        revocations.applyNow(kind, value: value, at: now, expiresAt: feedExpiry)
    }

    func revocations(after id: Int, now: Date) async throws -> [RevocationEntry] { try await inner.revocations(after: id, now: now) }
}
