/// Registered OAuth apps, their icons and the audit log of changes to them.
enum M002OAuthClients {
    static let migration = Migration(version: 2, name: "oauth_clients_and_audit") { types in
        [
            """
            CREATE TABLE oauth_clients (
                client_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                description TEXT NOT NULL,
                website_url TEXT NOT NULL,
                logo_format TEXT NOT NULL,
                logo_version TEXT NOT NULL,
                logo_bytes \(types.blob) NOT NULL,
                allow_pkce BIGINT NOT NULL,
                redirect_uris TEXT NOT NULL,
                allowed_origins TEXT NOT NULL,
                scopes TEXT NOT NULL,
                policy_url TEXT NOT NULL,
                terms_url TEXT NOT NULL,
                logout_redirect_uri TEXT,
                enabled BIGINT NOT NULL,
                secret_hash TEXT NOT NULL,
                created_on BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                modified_on BIGINT NOT NULL,
                modified_by TEXT NOT NULL
            )
            """,
            "CREATE INDEX oauth_clients_created ON oauth_clients (created_on, client_id)",
            "CREATE INDEX oauth_clients_creator ON oauth_clients (created_by, created_on, client_id)",
            """
            CREATE TABLE oauth_client_audit (
                id \(types.serialPrimaryKey),
                client_id TEXT NOT NULL,
                action TEXT NOT NULL,
                actor_id TEXT NOT NULL,
                at BIGINT NOT NULL,
                details TEXT NOT NULL
            )
            """,
            "CREATE INDEX oauth_client_audit_client ON oauth_client_audit (client_id, at)",
            "CREATE INDEX oauth_client_audit_at ON oauth_client_audit (at)",
        ]
    }
}
