import Foundation
import OAuthCore
import PortalCore
import SQLKit

/// `SignInFailureStore` on SQL, so throttling holds across processes.
public struct SQLSignInFailureStore: SignInFailureStore {
    private let database: any Database

    /// A store on `database`.
    public init(database: any Database) { self.database = database }

    public func failures(key: String, since: Date) async throws -> [Date] {
        try await database.read { sql in try await Self.failures(key: key, since: since, sql) }
    }

    /// The failures (and reservations) of `key` after `since`, read on `sql`.
    static func failures(key: String, since: Date, _ sql: any SQLDatabase) async throws -> [Date] {
        try await sql.raw("""
            SELECT failed_at FROM sign_in_failures WHERE throttle_key = \(bind: key) AND failed_at > \(bind: since.unixSeconds)
            """).all().map { Date(unixSeconds: try $0.decode(column: "failed_at", as: Int64.self)) }
    }

    public func reserve(
        keys: [String], attempt: String, at instant: Date, since: Date, decide: @Sendable ([[Date]]) -> SignInThrottle.Decision
    ) async throws -> SignInThrottle.Decision {
        let flavor = database.flavor
        return try await database.write { sql in
            // SQLite's writer holds the database's write lock; on PostgreSQL attempts on the same keys
            // take turns (locks taken in one order, so two attempts never wait on each other).
            if flavor == .postgres {
                for key in Set(keys).sorted() {
                    try await sql.raw("SELECT pg_advisory_xact_lock(7243003, hashtext(\(bind: key))) AS locked").run()
                }
            }
            var failures: [[Date]] = []
            for key in keys { failures.append(try await Self.failures(key: key, since: since, sql)) }
            let decision = decide(failures)
            guard decision == .allowed else { return decision }
            for key in keys {
                try await sql.raw("""
                    INSERT INTO sign_in_failures (throttle_key, failed_at, attempt)
                    VALUES (\(bind: key), \(bind: instant.unixSeconds), \(bind: attempt))
                    """).run()
            }
            return decision
        }
    }

    public func release(attempt: String) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM sign_in_failures WHERE attempt = \(bind: attempt)").run()
        }
    }

    public func clear(key: String) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM sign_in_failures WHERE throttle_key = \(bind: key)").run()
        }
    }
}
