/// The authorization server's state: signing keys, consents, grants, codes, refresh tokens and the
/// append-only revocation feed that every process polls.
enum M003AuthorizationServer {
    static let migration = Migration(version: 3, name: "authorization_server") { types in
        [
            """
            CREATE TABLE signing_keys (
                kid TEXT PRIMARY KEY,
                alg TEXT NOT NULL,
                private_sealed \(types.blob) NOT NULL,
                created_at BIGINT NOT NULL,
                retired_at BIGINT,
                publish_until BIGINT
            )
            """,
            """
            CREATE TABLE consents (
                person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                client_id TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
                scopes TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                modified_at BIGINT NOT NULL,
                PRIMARY KEY (person_id, client_id)
            )
            """,
            """
            CREATE TABLE grants (
                grant_id TEXT PRIMARY KEY,
                client_id TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
                person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                scopes TEXT NOT NULL,
                auth_time BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT
            )
            """,
            "CREATE INDEX grants_client_person ON grants (client_id, person_id)",
            """
            CREATE TABLE authorization_codes (
                code_hash TEXT PRIMARY KEY,
                grant_id TEXT NOT NULL,
                client_id TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
                person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                redirect_uri TEXT NOT NULL,
                redirect_uri_given BIGINT NOT NULL,
                scopes TEXT NOT NULL,
                nonce TEXT,
                code_challenge TEXT,
                auth_time BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                consumed_at BIGINT
            )
            """,
            "CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at)",
            """
            CREATE TABLE refresh_tokens (
                token_hash TEXT PRIMARY KEY,
                grant_id TEXT NOT NULL REFERENCES grants(grant_id) ON DELETE CASCADE,
                client_id TEXT NOT NULL,
                person_id TEXT NOT NULL,
                scopes TEXT NOT NULL,
                auth_time BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                rotated_at BIGINT
            )
            """,
            "CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id)",
            "CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at)",
            """
            CREATE TABLE revocations (
                id \(types.serialPrimaryKey),
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX revocations_expiry ON revocations (expires_at)",
        ]
    }
}
