import Foundation
import OAuthCore
import SQLKit

/// Codes, refresh tokens, grants, consents and the revocation feed on SQL. Every redemption and
/// rotation is one conditional `UPDATE … WHERE consumed_at IS NULL RETURNING`: of two racing
/// requests exactly one gets the row.
public struct SQLAuthorizationStore: AuthorizationCodeStore, RefreshTokenStore, GrantStore, ConsentStore {
    private let database: any Database

    public init(database: any Database) { self.database = database }

    static func scopes(_ list: [String]) -> String { list.joined(separator: " ") }
    static func scopeList(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }

    // MARK: codes

    public func issue(_ code: IssuedCode) async throws {
        try await database.write { sql in
            try await Self.openGrant(code.grantID, clientID: code.clientID, personID: code.personID, scopes: code.scopes, authTime: code.authTime,
                                     createdAt: code.createdAt, resources: code.resources, sql)
            try await sql.raw("""
                INSERT INTO authorization_codes (code_hash, grant_id, client_id, person_id, redirect_uri, redirect_uri_given,
                    scopes, nonce, code_challenge, auth_time, created_at, expires_at)
                VALUES (\(bind: code.codeHash), \(bind: code.grantID.rawValue), \(bind: code.clientID.rawValue), \(bind: code.personID.rawValue),
                        \(bind: code.redirectURI), \(bind: code.redirectURIWasGiven ? 1 : 0), \(bind: Self.scopes(code.scopes)),
                        \(bind: code.nonce), \(bind: code.codeChallenge), \(bind: code.authTime.unixSeconds),
                        \(bind: code.createdAt.unixSeconds), \(bind: code.expiresAt.unixSeconds))
                """).run()
        }
    }

    /// Opens a grant (a code's, a developer token's) in the caller's transaction.
    static func openGrant(_ grantID: GrantID, clientID: ClientID, personID: SubjectID, scopes: [String], authTime: Date, createdAt: Date,
                          resources: [String], _ sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO grants (grant_id, client_id, person_id, scopes, auth_time, created_at, resources)
            VALUES (\(bind: grantID.rawValue), \(bind: clientID.rawValue), \(bind: personID.rawValue), \(bind: Self.scopes(scopes)),
                    \(bind: authTime.unixSeconds), \(bind: createdAt.unixSeconds), \(bind: Self.scopes(resources)))
            """).run()
    }

    public func find(codeHash: String) async throws -> IssuedCode? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT c.code_hash, c.grant_id, c.client_id, c.person_id, c.redirect_uri, c.redirect_uri_given, c.scopes, c.nonce,
                       c.code_challenge, c.auth_time, c.created_at, c.expires_at, c.consumed_at, g.resources
                FROM authorization_codes c JOIN grants g ON g.grant_id = c.grant_id WHERE c.code_hash = \(bind: codeHash)
                """).first()
            else { return nil }
            return IssuedCode(
                codeHash: try row.decode(column: "code_hash", as: String.self),
                grantID: GrantID(rawValue: try row.decode(column: "grant_id", as: String.self)),
                clientID: ClientID(rawValue: try row.decode(column: "client_id", as: String.self)),
                personID: SubjectID(rawValue: try row.decode(column: "person_id", as: String.self)),
                redirectURI: try row.decode(column: "redirect_uri", as: String.self),
                redirectURIWasGiven: try row.decode(column: "redirect_uri_given", as: Int.self) != 0,
                scopes: Self.scopeList(try row.decode(column: "scopes", as: String.self)),
                nonce: try row.decode(column: "nonce", as: String?.self),
                codeChallenge: try row.decode(column: "code_challenge", as: String?.self),
                authTime: Date(unixSeconds: try row.decode(column: "auth_time", as: Int64.self)),
                createdAt: Date(unixSeconds: try row.decode(column: "created_at", as: Int64.self)),
                expiresAt: Date(unixSeconds: try row.decode(column: "expires_at", as: Int64.self)),
                consumedAt: try row.decode(column: "consumed_at", as: Int64?.self).map { Date(unixSeconds: $0) },
                resources: Self.scopeList(try row.decode(column: "resources", as: String.self))
            )
        }
    }

    public func redeem(codeHash: String, at now: Date, firstRefreshToken: StoredRefreshToken?) async throws -> Bool {
        try await database.write { sql in
            let won = try await sql.raw("""
                UPDATE authorization_codes SET consumed_at = \(bind: now.unixSeconds)
                WHERE code_hash = \(bind: codeHash) AND consumed_at IS NULL
                  AND EXISTS (SELECT 1 FROM grants g WHERE g.grant_id = authorization_codes.grant_id AND g.revoked_at IS NULL)
                RETURNING code_hash
                """).first() != nil
            guard won else { return false }
            if let token = firstRefreshToken { try await Self.insert(token, sql) }
            return true
        }
    }

    // MARK: refresh tokens

    static func insert(_ token: StoredRefreshToken, _ sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO refresh_tokens (token_hash, grant_id, client_id, person_id, scopes, auth_time, created_at, expires_at)
            VALUES (\(bind: token.tokenHash), \(bind: token.grantID.rawValue), \(bind: token.clientID.rawValue), \(bind: token.personID.rawValue),
                    \(bind: scopes(token.scopes)), \(bind: token.authTime.unixSeconds), \(bind: token.createdAt.unixSeconds),
                    \(bind: token.expiresAt.unixSeconds))
            """).run()
    }

    public func find(tokenHash: String) async throws -> StoredRefreshToken? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT r.token_hash, r.grant_id, r.client_id, r.person_id, r.scopes, r.auth_time, r.created_at, r.expires_at,
                       r.rotated_at, g.resources
                FROM refresh_tokens r JOIN grants g ON g.grant_id = r.grant_id WHERE r.token_hash = \(bind: tokenHash)
                """).first()
            else { return nil }
            return StoredRefreshToken(
                tokenHash: try row.decode(column: "token_hash", as: String.self),
                grantID: GrantID(rawValue: try row.decode(column: "grant_id", as: String.self)),
                clientID: ClientID(rawValue: try row.decode(column: "client_id", as: String.self)),
                personID: SubjectID(rawValue: try row.decode(column: "person_id", as: String.self)),
                scopes: Self.scopeList(try row.decode(column: "scopes", as: String.self)),
                authTime: Date(unixSeconds: try row.decode(column: "auth_time", as: Int64.self)),
                createdAt: Date(unixSeconds: try row.decode(column: "created_at", as: Int64.self)),
                expiresAt: Date(unixSeconds: try row.decode(column: "expires_at", as: Int64.self)),
                rotatedAt: try row.decode(column: "rotated_at", as: Int64?.self).map { Date(unixSeconds: $0) },
                resources: Self.scopeList(try row.decode(column: "resources", as: String.self))
            )
        }
    }

    public func rotate(tokenHash: String, at now: Date, successor: StoredRefreshToken) async throws -> Bool {
        try await database.write { sql in
            let won = try await sql.raw("""
                UPDATE refresh_tokens SET rotated_at = \(bind: now.unixSeconds)
                WHERE token_hash = \(bind: tokenHash) AND rotated_at IS NULL AND expires_at > \(bind: now.unixSeconds)
                  AND EXISTS (SELECT 1 FROM grants g WHERE g.grant_id = refresh_tokens.grant_id AND g.revoked_at IS NULL)
                RETURNING token_hash
                """).first() != nil
            guard won else { return false }
            try await Self.insert(successor, sql)
            return true
        }
    }

    // MARK: grants and the feed

    public func isActive(grantID: GrantID) async throws -> Bool {
        try await database.read { sql in
            try await sql.raw("SELECT grant_id FROM grants WHERE grant_id = \(bind: grantID.rawValue) AND revoked_at IS NULL").first() != nil
        }
    }

    public func revoke(grantID: GrantID, at now: Date, feedExpiry: Date) async throws {
        try await database.write { sql in try await Self.revoke(grantID, now, feedExpiry, sql) }
    }

    /// Marks the grant revoked and appends its feed entry, in the caller's transaction.
    static func revoke(_ grantID: GrantID, _ now: Date, _ feedExpiry: Date, _ sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE grants SET revoked_at = \(bind: now.unixSeconds) WHERE grant_id = \(bind: grantID.rawValue) AND revoked_at IS NULL").run()
        try await record(.grant(id: grantID), now, feedExpiry, sql)
    }

    public func record(_ revocation: Revocation, at now: Date, feedExpiry: Date) async throws {
        try await database.write { sql in try await Self.record(revocation, now, feedExpiry, sql) }
    }

    static func record(_ revocation: Revocation, _ now: Date, _ expiry: Date, _ sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO revocations (kind, value, created_at, expires_at)
            VALUES (\(bind: revocation.feedKind), \(bind: revocation.feedValue), \(bind: now.milliseconds), \(bind: expiry.unixSeconds))
            """).run()
    }

    public func revocations(after id: Int, now: Date) async throws -> [RevocationEntry] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT id, kind, value, created_at, expires_at FROM revocations
                WHERE id > \(bind: id) AND expires_at > \(bind: now.unixSeconds) ORDER BY id LIMIT 10000
                """).all().compactMap { row in
                guard let revocation = Revocation(
                    feedKind: try row.decode(column: "kind", as: String.self), value: try row.decode(column: "value", as: String.self)
                ) else { return nil }
                return RevocationEntry(
                    id: try row.decode(column: "id", as: Int.self), revocation: revocation,
                    createdAtMilliseconds: try row.decode(column: "created_at", as: Int64.self),
                    expiresAt: Date(unixSeconds: try row.decode(column: "expires_at", as: Int64.self))
                )
            }
        }
    }

    // MARK: consents

    public func find(personID: SubjectID, clientID: ClientID) async throws -> Consent? {
        try await database.read { sql in
            try await sql.raw("""
                SELECT person_id, client_id, scopes, created_at, modified_at FROM consents
                WHERE person_id = \(bind: personID.rawValue) AND client_id = \(bind: clientID.rawValue)
                """).first().map(Self.consent)
        }
    }

    public func allow(personID: SubjectID, clientID: ClientID, scopes: [String], at now: Date) async throws {
        try await database.write { sql in
            let existing = try await sql.raw("""
                SELECT scopes FROM consents WHERE person_id = \(bind: personID.rawValue) AND client_id = \(bind: clientID.rawValue)
                """).first()
            if let existing {
                let merged = Set(Self.scopeList(try existing.decode(column: "scopes", as: String.self))).union(scopes)
                let ordered = ScopeCatalog.all.map(\.name).filter(merged.contains)
                try await sql.raw("""
                    UPDATE consents SET scopes = \(bind: Self.scopes(ordered)), modified_at = \(bind: now.unixSeconds)
                    WHERE person_id = \(bind: personID.rawValue) AND client_id = \(bind: clientID.rawValue)
                    """).run()
            } else {
                try await sql.raw("""
                    INSERT INTO consents (person_id, client_id, scopes, created_at, modified_at)
                    VALUES (\(bind: personID.rawValue), \(bind: clientID.rawValue), \(bind: Self.scopes(scopes)),
                            \(bind: now.unixSeconds), \(bind: now.unixSeconds))
                    """).run()
            }
        }
    }

    public func list(personID: SubjectID) async throws -> [Consent] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT person_id, client_id, scopes, created_at, modified_at FROM consents
                WHERE person_id = \(bind: personID.rawValue) ORDER BY modified_at DESC, client_id
                """).all().map(Self.consent)
        }
    }

    public func withdraw(personID: SubjectID, clientID: ClientID, at now: Date, feedExpiry: Date) async throws -> Bool {
        try await database.write { sql in
            let removed = try await sql.raw("""
                DELETE FROM consents WHERE person_id = \(bind: personID.rawValue) AND client_id = \(bind: clientID.rawValue)
                RETURNING client_id
                """).first() != nil
            guard removed else { return false }
            try await sql.raw("""
                UPDATE grants SET revoked_at = \(bind: now.unixSeconds)
                WHERE person_id = \(bind: personID.rawValue) AND client_id = \(bind: clientID.rawValue) AND revoked_at IS NULL
                """).run()
            try await Self.record(.consent(clientID, personID: personID), now, feedExpiry, sql)
            return true
        }
    }

    static func consent(_ row: any SQLRow) throws -> Consent {
        Consent(
            personID: SubjectID(rawValue: try row.decode(column: "person_id", as: String.self)),
            clientID: ClientID(rawValue: try row.decode(column: "client_id", as: String.self)),
            scopes: scopeList(try row.decode(column: "scopes", as: String.self)),
            createdAt: Date(unixSeconds: try row.decode(column: "created_at", as: Int64.self)),
            modifiedAt: Date(unixSeconds: try row.decode(column: "modified_at", as: Int64.self))
        )
    }
}

/// Signing keys on SQL.
public struct SQLSigningKeyStore: SigningKeyStore {
    private let database: any Database

    public init(database: any Database) { self.database = database }

    /// The migration that makes the `signing_keys` table: until it is applied there are no keys.
    public static let migrationVersion = M003AuthorizationServer.migration.version

    public func createFirst(_ keys: [StoredSigningKey]) async throws -> Bool {
        let flavor = database.flavor
        return try await database.write { sql in
            // SQLite's writer holds the database's write lock; PostgreSQL takes turns on this lock.
            if flavor == .postgres { try await sql.raw("SELECT pg_advisory_xact_lock(7243002) AS locked").run() }
            guard try await sql.raw("SELECT kid FROM signing_keys WHERE retired_at IS NULL LIMIT 1").first() == nil else { return false }
            for key in keys {
                try await sql.raw("""
                    INSERT INTO signing_keys (kid, alg, private_sealed, created_at)
                    VALUES (\(bind: key.keyID), \(bind: key.algorithm.rawValue), \(bind: key.sealedPrivateKey), \(bind: key.createdAt.unixSeconds))
                    """).run()
            }
            return true
        }
    }

    public func reseal(_ sealed: [String: Data]) async throws {
        try await database.write { sql in
            for (keyID, bytes) in sealed.sorted(by: { $0.key < $1.key }) {
                try await sql.raw("UPDATE signing_keys SET private_sealed = \(bind: bytes) WHERE kid = \(bind: keyID)").run()
            }
        }
    }

    public func published(at now: Date) async throws -> [StoredSigningKey] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT kid, alg, private_sealed, created_at, retired_at, publish_until FROM signing_keys
                WHERE publish_until IS NULL OR publish_until > \(bind: now.unixSeconds)
                ORDER BY created_at, kid
                """).all().compactMap { row in
                guard let algorithm = JWSAlgorithm(rawValue: try row.decode(column: "alg", as: String.self)) else { return nil }
                return StoredSigningKey(
                    keyID: try row.decode(column: "kid", as: String.self), algorithm: algorithm,
                    sealedPrivateKey: try row.decode(column: "private_sealed", as: Data.self),
                    createdAt: Date(unixSeconds: try row.decode(column: "created_at", as: Int64.self)),
                    retiredAt: try row.decode(column: "retired_at", as: Int64?.self).map { Date(unixSeconds: $0) },
                    publishUntil: try row.decode(column: "publish_until", as: Int64?.self).map { Date(unixSeconds: $0) }
                )
            }
        }
    }

    public func rotate(to key: StoredSigningKey, publishOldUntil: Date) async throws {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE signing_keys SET retired_at = \(bind: key.createdAt.unixSeconds), publish_until = \(bind: publishOldUntil.unixSeconds)
                WHERE alg = \(bind: key.algorithm.rawValue) AND retired_at IS NULL
                """).run()
            try await sql.raw("""
                INSERT INTO signing_keys (kid, alg, private_sealed, created_at)
                VALUES (\(bind: key.keyID), \(bind: key.algorithm.rawValue), \(bind: key.sealedPrivateKey), \(bind: key.createdAt.unixSeconds))
                """).run()
        }
    }
}
