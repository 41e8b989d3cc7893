import Foundation
import OAuthCore
import PortalCore
import SQLKit

/// `PersonStore` on SQL.
public struct SQLPersonStore: PersonStore, PeopleDirectory {
    private let database: any Database

    /// A store on `database`.
    public init(database: any Database) { self.database = database }

    public func setPasswordHash(_ hash: String, for id: PersonID, at now: Date) async throws -> Bool {
        try await database.write { sql in
            let changed = try await sql.raw("""
                UPDATE people SET password_hash = \(bind: hash), updated_at = \(bind: now.unixSeconds)
                WHERE id = \(bind: id.rawValue) RETURNING id
                """).first() != nil
            if changed { try await sql.raw("DELETE FROM sessions WHERE person_id = \(bind: id.rawValue)").run() }
            return changed
        }
    }

    public func upgradePasswordHash(_ old: String, to new: String, for id: PersonID) async throws -> Bool {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE people SET password_hash = \(bind: new)
                WHERE id = \(bind: id.rawValue) AND password_hash = \(bind: old) RETURNING id
                """).first() != nil
        }
    }

    public func samplePasswordHash() async throws -> String? {
        try await database.read { sql in
            try await sql.raw("SELECT password_hash FROM people ORDER BY random() LIMIT 1").first()?
                .decode(column: "password_hash", as: String.self)
        }
    }

    public func create(_ person: Person, passwordHash: String) async throws {
        let inserted = try await database.write { sql in
            try await sql.raw("""
                INSERT INTO people (id, email, password_hash, first_name, last_name, role, created_at, updated_at)
                VALUES (\(bind: person.id.rawValue), \(bind: person.email), \(bind: passwordHash),
                        \(bind: person.firstName), \(bind: person.lastName), \(bind: person.role.rawValue),
                        \(bind: person.createdAt.unixSeconds), \(bind: person.updatedAt.unixSeconds))
                ON CONFLICT (email) DO NOTHING
                RETURNING id
                """).first()
        }
        if inserted == nil { throw PersonInputError.emailTaken }
    }

    public func find(id: PersonID) async throws -> Person? {
        try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM people WHERE id = \(bind: id.rawValue)")
                .first().map { try Self.person($0) }
        }
    }

    public func credentials(email: String) async throws -> (person: Person, passwordHash: String)? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns), password_hash FROM people WHERE email = \(bind: email.lowercased())
                """).first()
            else { return nil }
            return (try Self.person(row), try row.decode(column: "password_hash", as: String.self))
        }
    }

    public func count() async throws -> Int {
        try await database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM people").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    public func hasOwner() async throws -> Bool {
        try await database.read { sql in
            try await sql.raw("SELECT id FROM people WHERE role = \(bind: Role.owner.rawValue) LIMIT 1").first() != nil
        }
    }

    static let columns = "id, email, first_name, last_name, role, created_at, updated_at, display_name"

    /// The person of a row with `columns`; a row joined to another table may name the id and the
    /// creation time otherwise.
    static func person(_ row: any SQLRow, id: String = "id", createdAt: String = "created_at") throws -> Person {
        let roleName = try row.decode(column: "role", as: String.self)
        return Person(
            id: PersonID(rawValue: try row.decode(column: id, as: String.self)),
            email: try row.decode(column: "email", as: String.self),
            firstName: try row.decode(column: "first_name", as: String.self),
            lastName: try row.decode(column: "last_name", as: String.self),
            role: Role(rawValue: roleName) ?? .guest,
            createdAt: Date(unixSeconds: try row.decode(column: createdAt, as: Int64.self)),
            updatedAt: Date(unixSeconds: try row.decode(column: "updated_at", as: Int64.self)),
            chosenDisplayName: try row.decode(column: "display_name", as: String?.self)
        )
    }

    // MARK: the people API

    public func list(text: String?, offset: Int, limit: Int) async throws -> (people: [Person], total: Int) {
        try await database.read { sql in
            let filter: SQLQueryString
            if let text, !text.isEmpty {
                let pattern = "%" + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
                filter = """
                    WHERE LOWER(email) LIKE \(bind: pattern) ESCAPE '\\' OR LOWER(first_name) LIKE \(bind: pattern) ESCAPE '\\'
                       OR LOWER(last_name) LIKE \(bind: pattern) ESCAPE '\\' OR LOWER(COALESCE(display_name, '')) LIKE \(bind: pattern) ESCAPE '\\'
                    """
            } else {
                filter = ""
            }
            let total = try await sql.raw("SELECT COUNT(*) AS n FROM people \(filter)").first()?.decode(column: "n", as: Int.self) ?? 0
            let people = try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM people \(filter) ORDER BY email LIMIT \(bind: limit) OFFSET \(bind: offset)
                """).all().map { try Self.person($0) }
            return (people, total)
        }
    }

    public func update(_ person: Person) async throws -> Bool {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE people SET first_name = \(bind: person.firstName), last_name = \(bind: person.lastName),
                    display_name = \(bind: person.chosenDisplayName), role = \(bind: person.role.rawValue),
                    updated_at = \(bind: person.updatedAt.unixSeconds)
                WHERE id = \(bind: person.id.rawValue) RETURNING id
                """).first() != nil
        }
    }

    public func remove(_ id: PersonID, at now: Date, feedExpiry: Date) async throws -> Bool {
        try await database.write { sql in
            // Sessions, consents, grants, codes, refresh tokens, My documents and memberships go by cascade.
            let removed = try await sql.raw("DELETE FROM people WHERE id = \(bind: id.rawValue) RETURNING id").first() != nil
            guard removed else { return false }
            try await SQLFileStore.collectUnusedBlobs(sql)
            try await SQLAuthorizationStore.record(.person(id: SubjectID(rawValue: id.rawValue)), now, feedExpiry, sql)
            return true
        }
    }
}
