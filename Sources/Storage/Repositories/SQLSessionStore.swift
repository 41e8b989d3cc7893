import Foundation
import OAuthCore
import PortalCore
import SQLKit

/// `SessionStore` on SQL: any process can serve any session.
public struct SQLSessionStore: SessionStore {
    private let database: any Database

    /// A store on `database`.
    public init(database: any Database) { self.database = database }

    public func create(_ session: Session) async throws {
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO sessions (token_hash, person_id, kind, authenticated_at, expires_at)
                VALUES (\(bind: session.tokenHash), \(bind: session.personID.rawValue), \(bind: session.kind.rawValue),
                        \(bind: session.authenticatedAt.unixSeconds), \(bind: session.expiresAt.unixSeconds))
                """).run()
        }
    }

    public func create(_ session: Session, whilePasswordHashIs passwordHash: String) async throws -> Bool {
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO sessions (token_hash, person_id, kind, authenticated_at, expires_at)
                SELECT \(bind: session.tokenHash), \(bind: session.personID.rawValue), \(bind: session.kind.rawValue),
                       \(bind: session.authenticatedAt.unixSeconds), \(bind: session.expiresAt.unixSeconds)
                WHERE EXISTS (SELECT 1 FROM people WHERE id = \(bind: session.personID.rawValue) AND password_hash = \(bind: passwordHash))
                RETURNING token_hash
                """).first() != nil
        }
    }

    public func find(tokenHash: String, now: Date) async throws -> (session: Session, person: Person)? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT s.token_hash, s.kind, s.authenticated_at, s.expires_at,
                       p.id, p.email, p.first_name, p.last_name, p.role, p.created_at, p.updated_at, p.display_name
                FROM sessions s JOIN people p ON p.id = s.person_id
                WHERE s.token_hash = \(bind: tokenHash) AND s.expires_at > \(bind: now.unixSeconds)
                """).first()
            else { return nil }
            let person = try SQLPersonStore.person(row)
            let session = Session(
                tokenHash: try row.decode(column: "token_hash", as: String.self),
                personID: person.id,
                kind: SessionKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .browser,
                authenticatedAt: Date(unixSeconds: try row.decode(column: "authenticated_at", as: Int64.self)),
                expiresAt: Date(unixSeconds: try row.decode(column: "expires_at", as: Int64.self))
            )
            return (session, person)
        }
    }

    public func delete(tokenHash: String) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM sessions WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    public func deleteAll(for personID: PersonID) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM sessions WHERE person_id = \(bind: personID.rawValue)").run()
        }
    }
}
