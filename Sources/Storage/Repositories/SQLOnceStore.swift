import Foundation
import PortalCore
import SQLKit

/// `OnceStore` on SQL, so that the view after a redirect may be served by any process.
public struct SQLOnceStore: OnceStore {
    private let database: any Database

    public init(database: any Database) { self.database = database }

    public func keep(id: String, owner: String, sealed: Data, until: Date) async throws {
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO one_time_views (id, owner, sealed, expires_at) VALUES (\(bind: id), \(bind: owner), \(bind: sealed), \(bind: until.unixSeconds))
                """).run()
        }
    }

    public func take(id: String, owner: String, now: Date) async throws -> Data? {
        try await database.write { sql in
            try await sql.raw("""
                DELETE FROM one_time_views WHERE id = \(bind: id) AND owner = \(bind: owner) AND expires_at > \(bind: now.unixSeconds)
                RETURNING sealed
                """).first()?.decode(column: "sealed", as: Data.self)
        }
    }

    public func claim(formToken: String, owner: String, until: Date) async throws -> String? {
        try await database.write { sql in
            if let row = try await sql.raw("SELECT result FROM form_submissions WHERE token = \(bind: formToken) AND owner = \(bind: owner)").first() {
                return try row.decode(column: "result", as: String.self)
            }
            // A token another session claimed is not this one's to use: it counts as sent already.
            let inserted = try await sql.raw("""
                INSERT INTO form_submissions (token, owner, result, expires_at) VALUES (\(bind: formToken), \(bind: owner), '', \(bind: until.unixSeconds))
                ON CONFLICT (token) DO NOTHING RETURNING token
                """).first() != nil
            return inserted ? nil : ""
        }
    }

    public func record(formToken: String, result: String) async throws {
        try await database.write { sql in
            try await sql.raw("UPDATE form_submissions SET result = \(bind: result) WHERE token = \(bind: formToken)").run()
        }
    }

    public func release(formToken: String) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM form_submissions WHERE token = \(bind: formToken)").run()
        }
    }
}
