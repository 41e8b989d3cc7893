import Foundation
import OAuthCore
import SQLKit

/// `ClientStore` on SQL. Lists are stored as JSON arrays of strings; booleans as 0/1.
public struct SQLClientStore: ClientStore, RegistrationThrottle {
    private let database: any Database
    private let revocationHorizon: TimeInterval

    /// A store on `database`; `revocationHorizon` is how long an access token can live (so how
    /// long the feed must remember that an app's tokens were ended).
    public init(database: any Database, revocationHorizon: TimeInterval = 86_400) {
        self.database = database
        self.revocationHorizon = revocationHorizon
    }

    /// Disabling or deleting an app ends its consents and grants (refresh tokens stop at once) and
    /// tells every process, through the feed, to refuse its access tokens.
    static func endTokens(_ sql: any SQLDatabase, _ clientID: ClientID, _ now: Date, horizon: TimeInterval) async throws {
        try await sql.raw("DELETE FROM consents WHERE client_id = \(bind: clientID.rawValue)").run()
        try await sql.raw("""
            UPDATE grants SET revoked_at = \(bind: now.unixSeconds) WHERE client_id = \(bind: clientID.rawValue) AND revoked_at IS NULL
            """).run()
        try await SQLAuthorizationStore.record(.client(clientID), now, TokenIssuer.everyTokenExpired(issuedAt: now, lifetime: horizon), sql)
    }

    static let columns = """
        client_id, name, description, website_url, logo_format, logo_version, allow_pkce, redirect_uris,
        allowed_origins, scopes, policy_url, terms_url, logout_redirect_uri, enabled, secret_hash,
        created_on, created_by, modified_on, modified_by, registered_by, registration_token_hash, document_app_id
        """

    public func create(_ client: RegisteredClient, logo: Icon, limits: ClientLimits) async throws {
        let postgres = database.flavor == .postgres
        try await database.write { sql in
            // PostgreSQL: creations one at a time, so that the limits' counts cannot be overrun by requests at once.
            if postgres { try await sql.raw("SELECT pg_advisory_xact_lock(CAST(7243011 AS INTEGER), 0)").run() }
            let total = try await sql.raw("SELECT COUNT(*) AS n FROM oauth_clients").first()?.decode(column: "n", as: Int.self) ?? 0
            if total >= limits.perPortal { throw ClientLimitReached.portal(limits.perPortal) }
            if client.registrar == .person {
                let mine = try await sql.raw("SELECT COUNT(*) AS n FROM oauth_clients WHERE created_by = \(bind: client.createdBy)")
                    .first()?.decode(column: "n", as: Int.self) ?? 0
                if mine >= limits.perPerson { throw ClientLimitReached.person(limits.perPerson) }
            } else {
                let share = limits.perPortal / 2
                let themselves = try await sql.raw("SELECT COUNT(*) AS n FROM oauth_clients WHERE registered_by <> 'person'")
                    .first()?.decode(column: "n", as: Int.self) ?? 0
                if themselves >= share { throw ClientLimitReached.selfRegistered(share) }
            }
            try await sql.raw("""
                INSERT INTO oauth_clients (\(unsafeRaw: Self.columns), logo_bytes)
                VALUES (\(bind: client.clientID.rawValue), \(bind: client.name), \(bind: client.description),
                        \(bind: client.websiteURL), \(bind: client.logoFormat.rawValue), \(bind: client.logoVersion),
                        \(bind: client.allowPKCE ? 1 : 0), \(bind: Self.encode(client.redirectURIs)),
                        \(bind: Self.encode(client.allowedOrigins)), \(bind: Self.encode(client.scopes)),
                        \(bind: client.policyURL), \(bind: client.termsURL), \(bind: client.logoutRedirectURI),
                        \(bind: client.enabled ? 1 : 0), \(bind: client.secretHash),
                        \(bind: client.createdOn.unixSeconds), \(bind: client.createdBy),
                        \(bind: client.modifiedOn.unixSeconds), \(bind: client.modifiedBy), \(bind: client.registrar.rawValue),
                        \(bind: client.registrationTokenHash), \(bind: client.documentAppID), \(bind: logo.bytes))
                """).run()
            // The actor is who made it: its creator, or the app itself when it registered itself (no creator).
            try await Self.audit(sql, client.clientID, .created, ChangeStamp(actorID: client.modifiedBy, at: client.createdOn), details: client.name)
        }
    }

    public func find(_ clientID: ClientID) async throws -> RegisteredClient? {
        try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM oauth_clients WHERE client_id = \(bind: clientID.rawValue)")
                .first().map(Self.client)
        }
    }

    public func find(id: String) async throws -> RegisteredClient? {
        try await database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM oauth_clients
                WHERE document_app_id = \(bind: id) OR (client_id = \(bind: id) AND document_app_id IS NULL)
                """).first().map(Self.client)
        }
    }

    public func logo(_ clientID: ClientID) async throws -> Icon? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT logo_format, logo_bytes FROM oauth_clients WHERE client_id = \(bind: clientID.rawValue)
                """).first(),
                let format = Icon.Format(rawValue: try row.decode(column: "logo_format", as: String.self))
            else { return nil }
            return Icon(trusted: try row.decode(column: "logo_bytes", as: Data.self), format: format)
        }
    }

    public func list(createdBy: String?, after cursor: ClientPageCursor?, limit: Int) async throws -> [RegisteredClient] {
        try await database.read { sql in
            var query = SQLQueryString("SELECT \(unsafeRaw: Self.columns) FROM oauth_clients WHERE 1 = 1")
            if let createdBy { query.appendInterpolation(unsafeRaw: " AND created_by = "); query.appendInterpolation(bind: createdBy) }
            if let cursor {
                let at = cursor.createdOn.unixSeconds
                query.appendInterpolation(unsafeRaw: " AND (created_on > ")
                query.appendInterpolation(bind: at)
                query.appendInterpolation(unsafeRaw: " OR (created_on = ")
                query.appendInterpolation(bind: at)
                query.appendInterpolation(unsafeRaw: " AND client_id > ")
                query.appendInterpolation(bind: cursor.clientID.rawValue)
                query.appendInterpolation(unsafeRaw: "))")
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY created_on, client_id LIMIT \(max(0, limit))")
            return try await sql.raw(query).all().map(Self.client)
        }
    }

    public func update(_ client: RegisteredClient, logo: Icon?, stamp: ChangeStamp, changedFields: [String]) async throws -> Bool {
        try await database.write { sql in
            let updated = try await sql.raw("""
                UPDATE oauth_clients SET name = \(bind: client.name), description = \(bind: client.description),
                    website_url = \(bind: client.websiteURL), logo_format = \(bind: client.logoFormat.rawValue),
                    logo_version = \(bind: client.logoVersion), allow_pkce = \(bind: client.allowPKCE ? 1 : 0),
                    redirect_uris = \(bind: Self.encode(client.redirectURIs)),
                    allowed_origins = \(bind: Self.encode(client.allowedOrigins)), scopes = \(bind: Self.encode(client.scopes)),
                    policy_url = \(bind: client.policyURL), terms_url = \(bind: client.termsURL),
                    logout_redirect_uri = \(bind: client.logoutRedirectURI),
                    modified_on = \(bind: stamp.at.unixSeconds), modified_by = \(bind: stamp.actorID)
                WHERE client_id = \(bind: client.clientID.rawValue)
                RETURNING client_id
                """).first() != nil
            guard updated else { return false }
            try await Self.narrowConsents(sql, client)
            if let logo {
                try await sql.raw("UPDATE oauth_clients SET logo_bytes = \(bind: logo.bytes) WHERE client_id = \(bind: client.clientID.rawValue)").run()
            }
            try await Self.audit(sql, client.clientID, .updated, stamp, details: changedFields.joined(separator: ","))
            try await Self.announceChange(sql, client.clientID, stamp.at)
            return true
        }
    }

    /// Remembered consents keep only the scopes the app is still registered for; one left with none is
    /// removed (the person is asked again for whatever the app asks next).
    static func narrowConsents(_ sql: any SQLDatabase, _ client: RegisteredClient) async throws {
        let rows = try await sql.raw("SELECT person_id, scopes FROM consents WHERE client_id = \(bind: client.clientID.rawValue)").all()
        for row in rows {
            let person = try row.decode(column: "person_id", as: String.self)
            let granted = try row.decode(column: "scopes", as: String.self).split(separator: " ").map(String.init)
            let kept = ScopeSet.retained(granted, registered: client.scopes)
            guard kept != granted else { continue }
            if kept.isEmpty {
                try await sql.raw("""
                    DELETE FROM consents WHERE person_id = \(bind: person) AND client_id = \(bind: client.clientID.rawValue)
                    """).run()
            } else {
                try await sql.raw("""
                    UPDATE consents SET scopes = \(bind: kept.joined(separator: " "))
                    WHERE person_id = \(bind: person) AND client_id = \(bind: client.clientID.rawValue)
                    """).run()
            }
        }
    }

    public func replaceRegistrationToken(_ clientID: ClientID, current: String, next: String) async throws -> Bool {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE oauth_clients SET registration_token_hash = \(bind: next)
                WHERE client_id = \(bind: clientID.rawValue) AND registration_token_hash = \(bind: current) RETURNING client_id
                """).first() != nil
        }
    }

    public func admit(address: String, at now: Date, window: TimeInterval, limit: Int) async throws -> Bool {
        let postgres = database.flavor == .postgres
        return try await database.write { sql in
            // PostgreSQL: one writer per address at a time, so that two attempts at once cannot both see room.
            if postgres { try await sql.raw("SELECT pg_advisory_xact_lock(CAST(7243010 AS INTEGER), hashtext(\(bind: address)))").run() }
            let recent = try await sql.raw("""
                SELECT COUNT(*) AS n FROM registration_attempts WHERE address = \(bind: address) AND at > \(bind: now.unixSeconds - Int64(window))
                """).first()?.decode(column: "n", as: Int.self) ?? 0
            guard recent < limit else { return false }
            try await sql.raw("INSERT INTO registration_attempts (address, at) VALUES (\(bind: address), \(bind: now.unixSeconds))").run()
            return true
        }
    }

    public func replaceSecret(_ clientID: ClientID, secretHash: String, stamp: ChangeStamp) async throws -> Bool {
        try await database.write { sql in
            let updated = try await sql.raw("""
                UPDATE oauth_clients SET secret_hash = \(bind: secretHash), modified_on = \(bind: stamp.at.unixSeconds),
                    modified_by = \(bind: stamp.actorID)
                WHERE client_id = \(bind: clientID.rawValue) RETURNING client_id
                """).first() != nil
            if updated {
                try await Self.audit(sql, clientID, .secretRegenerated, stamp, details: "")
                try await Self.announceChange(sql, clientID, stamp.at)
            }
            return updated
        }
    }

    public func setEnabled(_ clientID: ClientID, _ enabled: Bool, stamp: ChangeStamp) async throws -> Bool {
        try await database.write { sql in
            let updated = try await sql.raw("""
                UPDATE oauth_clients SET enabled = \(bind: enabled ? 1 : 0), modified_on = \(bind: stamp.at.unixSeconds),
                    modified_by = \(bind: stamp.actorID)
                WHERE client_id = \(bind: clientID.rawValue) RETURNING client_id
                """).first() != nil
            if updated {
                try await Self.audit(sql, clientID, enabled ? .enabled : .disabled, stamp, details: "")
                if !enabled { try await Self.endTokens(sql, clientID, stamp.at, horizon: revocationHorizon) }
                try await Self.announceChange(sql, clientID, stamp.at)
            }
            return updated
        }
    }

    public func delete(_ clientID: ClientID, stamp: ChangeStamp) async throws -> Bool {
        try await database.write { sql in
            let deleted = try await sql.raw("DELETE FROM oauth_clients WHERE client_id = \(bind: clientID.rawValue) RETURNING client_id")
                .first() != nil
            if deleted {
                try await Self.audit(sql, clientID, .deleted, stamp, details: "")
                try await Self.endTokens(sql, clientID, stamp.at, horizon: revocationHorizon)
            }
            return deleted
        }
    }

    public func enabledOrigins() async throws -> Set<String> {
        try await database.read { sql in
            var origins = Set<String>()
            for row in try await sql.raw("SELECT allowed_origins FROM oauth_clients WHERE enabled = 1").all() {
                origins.formUnion(Self.decodeList(try row.decode(column: "allowed_origins", as: String.self)))
            }
            return origins
        }
    }

    public func auditLog(_ filter: ClientAuditFilter, limit: Int) async throws -> [ClientAuditEntry] {
        try await database.read { sql in
            var query = SQLQueryString("SELECT id, client_id, action, actor_id, at, details FROM oauth_client_audit WHERE 1 = 1")
            if let clientID = filter.clientID {
                query.appendInterpolation(unsafeRaw: " AND client_id = "); query.appendInterpolation(bind: clientID.rawValue)
            }
            if let actorID = filter.actorID {
                query.appendInterpolation(unsafeRaw: " AND actor_id = "); query.appendInterpolation(bind: actorID)
            }
            if let action = filter.action {
                query.appendInterpolation(unsafeRaw: " AND action = "); query.appendInterpolation(bind: action.rawValue)
            }
            if let since = filter.since {
                query.appendInterpolation(unsafeRaw: " AND at >= "); query.appendInterpolation(bind: since.unixSeconds)
            }
            if let until = filter.until {
                query.appendInterpolation(unsafeRaw: " AND at <= "); query.appendInterpolation(bind: until.unixSeconds)
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT \(max(0, limit))")
            return try await sql.raw(query).all().map { row in
                ClientAuditEntry(
                    id: try row.decode(column: "id", as: Int.self),
                    clientID: ClientID(rawValue: try row.decode(column: "client_id", as: String.self)),
                    action: ClientAuditAction(rawValue: try row.decode(column: "action", as: String.self)) ?? .updated,
                    actorID: try row.decode(column: "actor_id", as: String.self),
                    at: Date(unixSeconds: try row.decode(column: "at", as: Int64.self)),
                    details: try row.decode(column: "details", as: String.self)
                )
            }
        }
    }

    /// Tells every process, through the feed, to drop its cached copy of the app.
    static func announceChange(_ sql: any SQLDatabase, _ clientID: ClientID, _ now: Date) async throws {
        try await SQLAuthorizationStore.record(.clientChanged(clientID), now, now.addingTimeInterval(120), sql)
    }

    static func audit(_ sql: any SQLDatabase, _ clientID: ClientID, _ action: ClientAuditAction, _ stamp: ChangeStamp, details: String) async throws {
        try await sql.raw("""
            INSERT INTO oauth_client_audit (client_id, action, actor_id, at, details)
            VALUES (\(bind: clientID.rawValue), \(bind: action.rawValue), \(bind: stamp.actorID),
                    \(bind: stamp.at.unixSeconds), \(bind: details))
            """).run()
    }

    static func encode(_ list: [String]) -> String {
        (try? String(data: JSONEncoder().encode(list), encoding: .utf8)) ?? "[]"
    }

    static func decodeList(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }

    static func client(_ row: any SQLRow) throws -> RegisteredClient {
        RegisteredClient(
            clientID: ClientID(rawValue: try row.decode(column: "client_id", as: String.self)),
            settings: ClientSettings(
                name: try row.decode(column: "name", as: String.self),
                description: try row.decode(column: "description", as: String.self),
                websiteURL: try row.decode(column: "website_url", as: String.self),
                allowPKCE: try row.decode(column: "allow_pkce", as: Int.self) != 0,
                redirectURIs: decodeList(try row.decode(column: "redirect_uris", as: String.self)),
                allowedOrigins: decodeList(try row.decode(column: "allowed_origins", as: String.self)),
                scopes: decodeList(try row.decode(column: "scopes", as: String.self)),
                policyURL: try row.decode(column: "policy_url", as: String.self),
                termsURL: try row.decode(column: "terms_url", as: String.self),
                logoutRedirectURI: try row.decode(column: "logout_redirect_uri", as: String?.self)
            ),
            logoFormat: Icon.Format(rawValue: try row.decode(column: "logo_format", as: String.self)) ?? .png,
            logoVersion: try row.decode(column: "logo_version", as: String.self),
            enabled: try row.decode(column: "enabled", as: Int.self) != 0,
            secretHash: try row.decode(column: "secret_hash", as: String.self),
            createdOn: Date(unixSeconds: try row.decode(column: "created_on", as: Int64.self)),
            createdBy: try row.decode(column: "created_by", as: String.self),
            modifiedOn: Date(unixSeconds: try row.decode(column: "modified_on", as: Int64.self)),
            modifiedBy: try row.decode(column: "modified_by", as: String.self),
            // An unknown value is not trusted as a person's: consent to it is never remembered.
            registrar: ClientRegistrar(rawValue: try row.decode(column: "registered_by", as: String.self)) ?? .app,
            registrationTokenHash: try row.decode(column: "registration_token_hash", as: String?.self),
            documentAppID: try row.decode(column: "document_app_id", as: String?.self)
        )
    }
}
