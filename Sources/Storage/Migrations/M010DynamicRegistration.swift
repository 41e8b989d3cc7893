/// Apps that register themselves (SPEC §6, RFC 7591/7592): who registered an app, the hash of its
/// registration access token, and registration attempts per client address for the rate limit.
enum M010DynamicRegistration {
    static let migration = Migration(version: 10, name: "dynamic_registration") { types in
        [
            "ALTER TABLE oauth_clients ADD COLUMN registered_by TEXT NOT NULL DEFAULT 'person'",
            "ALTER TABLE oauth_clients ADD COLUMN registration_token_hash TEXT",
            "CREATE INDEX oauth_clients_registrar ON oauth_clients (registered_by, created_on)",
            """
            CREATE TABLE registration_attempts (
                id \(types.serialPrimaryKey),
                address TEXT NOT NULL,
                at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX registration_attempts_address ON registration_attempts (address, at)",
            "CREATE INDEX registration_attempts_at ON registration_attempts (at)",
        ]
    }
}
