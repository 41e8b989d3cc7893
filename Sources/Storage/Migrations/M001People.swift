/// People, their sessions and the failed sign-ins that throttle guessing.
enum M001People {
    static let migration = Migration(version: 1, name: "people_sessions_sign_in_failures") { _ in
        [
            """
            CREATE TABLE people (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                first_name TEXT NOT NULL,
                last_name TEXT NOT NULL,
                role TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                authenticated_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sessions_person ON sessions (person_id)",
            "CREATE INDEX sessions_expiry ON sessions (expires_at)",
            """
            CREATE TABLE sign_in_failures (
                throttle_key TEXT NOT NULL,
                failed_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sign_in_failures_key ON sign_in_failures (throttle_key, failed_at)",
        ]
    }
}
