import Foundation
import SQLKit

/// Deletes what no request can use any more, in small batches so that no sweep holds the write lock
/// for more than a few milliseconds: expired codes, refresh tokens that expired or were rotated out
/// longer than the reuse-detection window ago, expired sessions, revocation entries whose tokens have
/// all expired, and sign-in failures older than the throttling window. On PostgreSQL each batch takes
/// a transaction-level advisory lock first, so only one process sweeps at a time.
public struct SQLHousekeeping: Sendable {
    /// What one sweep deleted, and the longest single batch (the longest pause it caused writers).
    public struct Report: Sendable, Equatable {
        public var deleted: [String: Int] = [:]
        /// Rows marked inactive rather than deleted, by table.
        public var deactivated: [String: Int] = [:]
        public var longestBatch: Duration = .zero
        /// `false` when another process held the sweep lock.
        public var swept = true
    }

    private let database: any Database
    /// Rows per batch.
    public let batchSize: Int
    /// How long rotated-out refresh tokens are kept so that a replayed one still revokes its grant.
    public let reuseDetectionWindow: TimeInterval
    /// How far back sign-in failures still count.
    public let throttleWindow: TimeInterval
    static let lockKey = 7_243_002

    public init(database: any Database, batchSize: Int = 100, reuseDetectionWindow: TimeInterval = 7 * 86_400,
                throttleWindow: TimeInterval = 15 * 60) {
        self.database = database
        self.batchSize = batchSize
        self.reuseDetectionWindow = reuseDetectionWindow
        self.throttleWindow = throttleWindow
    }

    /// One pass over every table; `pause` runs between batches so requests get the lock in turn.
    public func sweep(now: Date, pause: @Sendable () async throws -> Void = { try await Task.sleep(for: .milliseconds(5)) })
        async throws -> Report
    {
        let seconds = now.unixSeconds
        // Codes are kept a while past expiry, so a late replay is still seen as reuse.
        let targets: [(table: String, key: String, condition: SQLQueryString)] = [
            ("authorization_codes", "code_hash", "expires_at < \(bind: seconds - 600)"),
            ("refresh_tokens", "token_hash", "expires_at < \(bind: seconds)"),
            ("refresh_tokens", "token_hash", "rotated_at < \(bind: seconds - Int64(reuseDetectionWindow))"),
            ("sessions", "token_hash", "expires_at < \(bind: seconds)"),
            ("revocations", "id", "expires_at < \(bind: seconds)"),
            ("one_time_views", "id", "expires_at < \(bind: seconds)"),
            ("form_submissions", "token", "expires_at < \(bind: seconds)"),
            ("developer_tokens", "grant_id", "expires_at < \(bind: seconds)"),
            ("registration_attempts", "id", "at < \(bind: seconds - 3600)"),
            // SPEC §6: an app that registered itself and was never used within a day (no grant ever opened).
            ("oauth_clients", "client_id", """
                registered_by <> 'person' AND created_on < \(bind: seconds - 86_400)
                AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.client_id = oauth_clients.client_id)
                """),
        ]
        var report = Report()
        for target in targets {
            while true {
                let started = ContinuousClock.now
                guard let count = try await batch(table: target.table, key: target.key, condition: target.condition) else {
                    report.swept = false
                    return report
                }
                report.longestBatch = max(report.longestBatch, ContinuousClock.now - started)
                report.deleted[target.table, default: 0] += count
                if count < batchSize { break }
                try await pause()
            }
        }
        let started = ContinuousClock.now
        let failures = try await database.write { sql in
            try await sql.raw("DELETE FROM sign_in_failures WHERE failed_at < \(bind: seconds - Int64(throttleWindow)) RETURNING failed_at")
                .all().count
        }
        report.longestBatch = max(report.longestBatch, ContinuousClock.now - started)
        report.deleted["sign_in_failures"] = failures
        // Expired API keys are marked inactive, so their creator sees it on the page (SPEC §7).
        report.deactivated["api_keys"] = try await SQLAPIKeyStore(database: database).deactivateExpired(now: now)
        return report
    }

    /// Deletes up to `batchSize` rows; `nil` when another process is sweeping.
    func batch(table: String, key: String, condition: SQLQueryString) async throws -> Int? {
        let postgres = database.flavor == .postgres
        let size = batchSize
        return try await database.write { sql in
            if postgres {
                let locked = try await sql.raw("SELECT pg_try_advisory_xact_lock(\(bind: Self.lockKey)) AS locked").first()?
                    .decode(column: "locked", as: Bool.self) ?? false
                guard locked else { return nil }
            }
            return try await sql.raw("""
                DELETE FROM \(unsafeRaw: table) WHERE \(unsafeRaw: key) IN (
                    SELECT \(unsafeRaw: key) FROM \(unsafeRaw: table) WHERE \(condition) LIMIT \(bind: size)
                ) RETURNING \(unsafeRaw: key)
                """).all().count
        }
    }
}
