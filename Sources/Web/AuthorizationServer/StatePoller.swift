import Foundation
import Logging
import OAuthCore

/// Brings a process's in-memory state up to date with the database: revocations made by any
/// process and keys rotated by `gatehouse keys rotate`. Run every second by the application.
public struct StatePoller: Sendable {
    let grants: any GrantStore
    let revocations: RevocationSet
    let keys: KeyRing
    let clients: ClientCache
    let clock: any TimeSource

    public init(grants: any GrantStore, revocations: RevocationSet, keys: KeyRing, clients: ClientCache, clock: any TimeSource) {
        self.grants = grants
        self.revocations = revocations
        self.keys = keys
        self.clients = clients
        self.clock = clock
    }

    /// One round: new feed entries, expired ones forgotten, keys reloaded when they changed.
    public func poll() async throws {
        let now = clock.now
        let entries = try await grants.revocations(after: revocations.lastID, now: now)
        revocations.apply(entries)
        for case let client? in entries.map(\.revocation.changedClient) { clients.invalidate(client) }
        revocations.prune(now: now)
        try await keys.reload()
    }
}
