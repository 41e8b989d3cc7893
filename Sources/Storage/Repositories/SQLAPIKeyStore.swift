import Foundation
import OAuthCore
import PortalCore
import SQLKit

/// `APIKeyStore` on SQL, so a key changed in one process holds in every other at its next use.
public struct SQLAPIKeyStore: APIKeyStore {
    private let database: any Database

    public init(database: any Database) { self.database = database }

    /// A key's columns, as `key(_:)` reads them.
    static let columnNames = ["id", "postfix", "name", "permissions", "person_id", "created_at", "expires_at", "last_used", "is_active"]
    static let columns = columnNames.map { "k." + $0 }.joined(separator: ", ")

    static func key(_ row: any SQLRow) throws -> APIKey {
        APIKey(
            id: try row.decode(column: "id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            postfix: try row.decode(column: "postfix", as: String.self),
            permissions: try row.decode(column: "permissions", as: String.self).split(separator: " ").map(String.init),
            personID: PersonID(rawValue: try row.decode(column: "person_id", as: String.self)),
            createdAt: Date(unixSeconds: try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: try row.decode(column: "expires_at", as: Int64?.self).map { Date(unixSeconds: $0) },
            lastUsed: try row.decode(column: "last_used", as: Int64?.self).map { Date(unixSeconds: $0) },
            isActive: try row.decode(column: "is_active", as: Int.self) != 0
        )
    }

    /// The key's columns and its person's, the person's `id` being the key's `person_id`.
    static let joined = "\(columns), p.email, p.first_name, p.last_name, p.role, p.updated_at, p.display_name, p.created_at AS person_created_at"

    static func person(_ row: any SQLRow) throws -> Person {
        try SQLPersonStore.person(row, id: "person_id", createdAt: "person_created_at")
    }

    public func create(_ key: APIKey, secretHash: String, limit: Int) async throws -> Bool {
        let flavor = database.flavor
        return try await database.write { sql in
            // Two creations by one person at once take turns on PostgreSQL; SQLite has one writer.
            if flavor == .postgres {
                try await sql.raw("SELECT pg_advisory_xact_lock(7243004, hashtext(\(bind: key.personID.rawValue))) AS locked").run()
            }
            let count = try await sql.raw("SELECT count(*) AS n FROM api_keys WHERE person_id = \(bind: key.personID.rawValue)")
                .first()?.decode(column: "n", as: Int.self) ?? 0
            guard count < limit else { return false }
            try await sql.raw("""
                INSERT INTO api_keys (id, secret_hash, postfix, name, permissions, person_id, created_at, expires_at, last_used, is_active)
                VALUES (\(bind: key.id), \(bind: secretHash), \(bind: key.postfix), \(bind: key.name),
                        \(bind: key.permissions.joined(separator: " ")), \(bind: key.personID.rawValue), \(bind: key.createdAt.unixSeconds),
                        \(bind: key.expiresAt?.unixSeconds), \(bind: key.lastUsed?.unixSeconds), \(bind: key.isActive ? 1 : 0))
                """).run()
            return true
        }
    }

    public func find(secretHash: String) async throws -> (key: APIKey, person: Person)? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT \(unsafeRaw: Self.joined) FROM api_keys k JOIN people p ON p.id = k.person_id WHERE k.secret_hash = \(bind: secretHash)
                """).first()
            else { return nil }
            return (try Self.key(row), try Self.person(row))
        }
    }

    public func find(id: String) async throws -> (key: APIKey, person: Person)? {
        try await database.read { sql in
            guard let row = try await sql.raw(
                "SELECT \(unsafeRaw: Self.joined) FROM api_keys k JOIN people p ON p.id = k.person_id WHERE k.id = \(bind: id)"
            ).first()
            else { return nil }
            return (try Self.key(row), try Self.person(row))
        }
    }

    public func list(personID: PersonID?) async throws -> [(key: APIKey, person: Person)] {
        try await database.read { sql in
            let rows: [any SQLRow]
            if let personID {
                rows = try await sql.raw("""
                    SELECT \(unsafeRaw: Self.joined) FROM api_keys k JOIN people p ON p.id = k.person_id
                    WHERE k.person_id = \(bind: personID.rawValue) ORDER BY k.created_at DESC, k.id
                    """).all()
            } else {
                rows = try await sql.raw("""
                    SELECT \(unsafeRaw: Self.joined) FROM api_keys k JOIN people p ON p.id = k.person_id ORDER BY k.created_at DESC, k.id
                    """).all()
            }
            return try rows.map { (try Self.key($0), try Self.person($0)) }
        }
    }

    public func update(id: String, name: String?, permissions: [String]?, isActive: Bool?) async throws -> APIKey? {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE api_keys SET name = COALESCE(\(bind: name), name),
                    permissions = COALESCE(\(bind: permissions?.joined(separator: " ")), permissions),
                    is_active = COALESCE(\(bind: isActive.map { $0 ? 1 : 0 }), is_active)
                WHERE id = \(bind: id)
                RETURNING \(unsafeRaw: Self.columnNames.joined(separator: ", "))
                """).first().map(Self.key)
        }
    }

    public func delete(id: String) async throws -> Bool {
        try await database.write { sql in
            try await sql.raw("DELETE FROM api_keys WHERE id = \(bind: id) RETURNING id").first() != nil
        }
    }

    public func touch(id: String, at now: Date) async throws {
        try await database.write { sql in
            try await sql.raw("UPDATE api_keys SET last_used = \(bind: now.unixSeconds) WHERE id = \(bind: id)").run()
        }
    }

    public func deactivateExpired(now: Date) async throws -> Int {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE api_keys SET is_active = 0 WHERE is_active = 1 AND expires_at IS NOT NULL AND expires_at <= \(bind: now.unixSeconds)
                RETURNING id
                """).all().count
        }
    }
}
