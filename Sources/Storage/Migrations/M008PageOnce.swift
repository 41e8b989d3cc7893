/// Post/Redirect/Get on the Developer Tools pages (SPEC §7): a secret kept sealed for the one view that
/// shows it, and single-use form tokens, so a form sent twice acts once.
enum M008PageOnce {
    static let migration = Migration(version: 8, name: "page_once") { types in
        [
            """
            CREATE TABLE one_time_views (
                id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                sealed \(types.blob) NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX one_time_views_expiry ON one_time_views (expires_at)",
            """
            CREATE TABLE form_submissions (
                token TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                result TEXT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX form_submissions_expiry ON form_submissions (expires_at)",
        ]
    }
}
