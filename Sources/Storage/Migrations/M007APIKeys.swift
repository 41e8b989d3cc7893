/// API keys (SPEC §7): each stored only as the SHA-256 of its secret, with its last four characters
/// for the masked form; removed with its person.
enum M007APIKeys {
    static let migration = Migration(version: 7, name: "api_keys") { _ in
        [
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                secret_hash TEXT NOT NULL UNIQUE,
                postfix TEXT NOT NULL,
                name TEXT NOT NULL,
                permissions TEXT NOT NULL,
                person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                created_at BIGINT NOT NULL,
                expires_at BIGINT,
                last_used BIGINT,
                is_active BIGINT NOT NULL
            )
            """,
            "CREATE INDEX api_keys_person ON api_keys (person_id, created_at)",
            "CREATE INDEX api_keys_expiry ON api_keys (expires_at)",
        ]
    }
}
