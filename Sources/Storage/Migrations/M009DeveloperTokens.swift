/// Developer tokens (SPEC §7): a person's one current token for an app, by its grant (the token itself
/// is a signed access token and is not kept).
enum M009DeveloperTokens {
    static let migration = Migration(version: 9, name: "developer_tokens") { _ in
        [
            """
            CREATE TABLE developer_tokens (
                client_id TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
                person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                grant_id TEXT NOT NULL UNIQUE REFERENCES grants(grant_id) ON DELETE CASCADE,
                scopes TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                PRIMARY KEY (client_id, person_id)
            )
            """,
            "CREATE INDEX developer_tokens_expiry ON developer_tokens (expires_at)",
        ]
    }
}
