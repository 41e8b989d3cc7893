import Foundation
import OAuthCore
import SQLKit

/// Developer tokens on SQL (SPEC §7): a row per person and app naming the current token's grant. A new
/// token's grant, the row and the revocation of the grant before (with its feed entry) are one
/// transaction; on PostgreSQL an advisory lock per person and app orders two requests at once, so the
/// second always sees, and revokes, the first one's token (SQLite has one writer at a time). The row is
/// written with an upsert, so a row deleted meanwhile (a revocation, housekeeping) is written again.
public struct SQLDeveloperTokenStore: DeveloperTokenStore {
    private let database: any Database
    static let lockKey = 7_243_009

    public init(database: any Database) { self.database = database }

    public func open(_ token: DeveloperToken, feedExpiry: Date) async throws -> GrantID? {
        let postgres = database.flavor == .postgres
        return try await database.write { sql in
            let client = token.clientID.rawValue, person = token.personID.rawValue
            if postgres { try await Self.lock(client: client, person: person, sql) }
            // The one before, while its token can still be used (an expired one needs no revocation entry).
            let previous = try await sql.raw("""
                SELECT grant_id FROM developer_tokens WHERE client_id = \(bind: client) AND person_id = \(bind: person)
                  AND expires_at > \(bind: token.createdAt.unixSeconds)
                """).first().map { GrantID(rawValue: try $0.decode(column: "grant_id", as: String.self)) }
            try await SQLAuthorizationStore.openGrant(
                token.grantID, clientID: token.clientID, personID: token.personID, scopes: token.scopes, authTime: token.authTime,
                createdAt: token.createdAt, resources: [], sql
            )
            let scopes = SQLAuthorizationStore.scopes(token.scopes)
            try await sql.raw("""
                INSERT INTO developer_tokens (client_id, person_id, grant_id, scopes, created_at, expires_at)
                VALUES (\(bind: client), \(bind: person), \(bind: token.grantID.rawValue), \(bind: scopes),
                        \(bind: token.createdAt.unixSeconds), \(bind: token.expiresAt.unixSeconds))
                ON CONFLICT (client_id, person_id) DO UPDATE SET grant_id = excluded.grant_id, scopes = excluded.scopes,
                    created_at = excluded.created_at, expires_at = excluded.expires_at
                """).run()
            if let previous { try await SQLAuthorizationStore.revoke(previous, token.createdAt, feedExpiry, sql) }
            return previous
        }
    }

    public func current(clientID: ClientID, personID: SubjectID, now: Date) async throws -> DeveloperToken? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT d.grant_id, d.scopes, d.created_at, d.expires_at, g.auth_time FROM developer_tokens d
                JOIN grants g ON g.grant_id = d.grant_id
                WHERE d.client_id = \(bind: clientID.rawValue) AND d.person_id = \(bind: personID.rawValue)
                  AND d.expires_at > \(bind: now.unixSeconds) AND g.revoked_at IS NULL
                """).first() else { return nil }
            return DeveloperToken(
                grantID: GrantID(rawValue: try row.decode(column: "grant_id", as: String.self)), clientID: clientID, personID: personID,
                scopes: SQLAuthorizationStore.scopeList(try row.decode(column: "scopes", as: String.self)),
                authTime: Date(unixSeconds: try row.decode(column: "auth_time", as: Int64.self)),
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

    public func revokeCurrent(clientID: ClientID, personID: SubjectID, grantID: GrantID?, at now: Date, feedExpiry: Date) async throws -> GrantID? {
        let postgres = database.flavor == .postgres
        return try await database.write { sql in
            if postgres { try await Self.lock(client: clientID.rawValue, person: personID.rawValue, sql) }
            let only: SQLQueryString = grantID.map { "AND grant_id = \(bind: $0.rawValue)" } ?? ""
            guard let row = try await sql.raw("""
                DELETE FROM developer_tokens WHERE client_id = \(bind: clientID.rawValue) AND person_id = \(bind: personID.rawValue)
                    AND expires_at > \(bind: now.unixSeconds) \(only) RETURNING grant_id
                """).first() else { return nil }
            let revoked = GrantID(rawValue: try row.decode(column: "grant_id", as: String.self))
            try await SQLAuthorizationStore.revoke(revoked, now, feedExpiry, sql)
            return revoked
        }
    }

    /// Orders the writers of one person's token for one app (PostgreSQL; SQLite has one writer).
    private static func lock(client: String, person: String, _ sql: any SQLDatabase) async throws {
        try await sql.raw("SELECT pg_advisory_xact_lock(CAST(\(bind: lockKey) AS INTEGER), hashtext(\(bind: client + " " + person)))").run()
    }
}
