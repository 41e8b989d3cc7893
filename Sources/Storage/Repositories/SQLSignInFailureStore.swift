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
        try await database.read { sql in
            try await sql.raw("""
                SELECT failed_at FROM sign_in_failures
                WHERE throttle_key = \(bind: key) AND failed_at > \(bind: since.unixSeconds)
                """).all().map { Date(unixSeconds: try $0.decode(column: "failed_at", as: Int64.self)) }
        }
    }

    public func recordFailure(keys: [String], at instant: Date) async throws {
        try await database.write { sql in
            for key in keys {
                try await sql.raw("""
                    INSERT INTO sign_in_failures (throttle_key, failed_at) VALUES (\(bind: key), \(bind: instant.unixSeconds))
                    """).run()
            }
        }
    }

    public func clear(key: String) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM sign_in_failures WHERE throttle_key = \(bind: key)").run()
        }
    }
}
