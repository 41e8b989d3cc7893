import Foundation
import OAuthCore
import SQLKit

/// Developer tokens on SQL (SPEC §7): a row per person and app naming the current token's grant. A new
/// token's grant, the row and the revocation of the grant before (with its feed entry) are one
/// transaction; on PostgreSQL an advisory lock per person and app orders two requests at once, so the
/// second always sees, and revokes, the first one's token (SQLite has one writer at a time).
public struct SQLDeveloperTokenStore: DeveloperTokenStore {
    private let database: any Database
    static let lockKey = 7_243_009

    public init(database: any Database) { self.database = database }

    public func open(_ token: DeveloperToken, feedExpiry: Date) async throws -> GrantID? {
        let postgres = database.flavor == .postgres
        return try await database.write { sql in
            let client = token.clientID.rawValue, person = token.personID.rawValue
            if postgres {
                try await sql.raw("SELECT pg_advisory_xact_lock(CAST(\(bind: Self.lockKey) AS INTEGER), hashtext(\(bind: client + " " + person)))").run()
            }
            let previous = try await sql.raw("""
                SELECT grant_id FROM developer_tokens WHERE client_id = \(bind: client) AND person_id = \(bind: person)
                """).first().map { GrantID(rawValue: try $0.decode(column: "grant_id", as: String.self)) }
            try await sql.raw("""
                INSERT INTO grants (grant_id, client_id, person_id, scopes, auth_time, created_at, resources)
                VALUES (\(bind: token.grantID.rawValue), \(bind: client), \(bind: person), \(bind: SQLAuthorizationStore.scopes(token.scopes)),
                        \(bind: token.createdAt.unixSeconds), \(bind: token.createdAt.unixSeconds), '')
                """).run()
            if let previous {
                try await sql.raw("""
                    UPDATE developer_tokens SET grant_id = \(bind: token.grantID.rawValue), scopes = \(bind: SQLAuthorizationStore.scopes(token.scopes)),
                        created_at = \(bind: token.createdAt.unixSeconds), expires_at = \(bind: token.expiresAt.unixSeconds)
                    WHERE client_id = \(bind: client) AND person_id = \(bind: person)
                    """).run()
                try await SQLAuthorizationStore.revoke(previous, token.createdAt, feedExpiry, sql)
            } else {
                try await sql.raw("""
                    INSERT INTO developer_tokens (client_id, person_id, grant_id, scopes, created_at, expires_at)
                    VALUES (\(bind: client), \(bind: person), \(bind: token.grantID.rawValue), \(bind: SQLAuthorizationStore.scopes(token.scopes)),
                            \(bind: token.createdAt.unixSeconds), \(bind: token.expiresAt.unixSeconds))
                    """).run()
            }
            return previous
        }
    }

    public func current(clientID: ClientID, personID: SubjectID, now: Date) async throws -> DeveloperToken? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT d.grant_id, d.scopes, d.created_at, d.expires_at FROM developer_tokens d
                JOIN grants g ON g.grant_id = d.grant_id
                WHERE d.client_id = \(bind: clientID.rawValue) AND d.person_id = \(bind: personID.rawValue)
                  AND d.expires_at > \(bind: now.unixSeconds) AND g.revoked_at IS NULL
                """).first() else { return nil }
            return DeveloperToken(
                grantID: GrantID(rawValue: try row.decode(column: "grant_id", as: String.self)), clientID: clientID, personID: personID,
                scopes: SQLAuthorizationStore.scopeList(try row.decode(column: "scopes", as: String.self)),
                createdAt: Date(unixSeconds: try row.decode(column: "created_at", as: Int64.self)),
                expiresAt: Date(unixSeconds: try row.decode(column: "expires_at", as: Int64.self))
            )
        }
    }

    public func revokeDeveloperToken(grantID: GrantID, at now: Date, feedExpiry: Date) async throws -> Bool {
        try await database.write { sql in
            guard try await sql.raw("""
                DELETE FROM developer_tokens WHERE grant_id = \(bind: grantID.rawValue) RETURNING grant_id
                """).first() != nil else { return false }
            try await SQLAuthorizationStore.revoke(grantID, now, feedExpiry, sql)
            return true
        }
    }
}
