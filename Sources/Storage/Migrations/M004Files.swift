/// Folders, files, their bytes (a blob table keyed by SHA-256, so any process serves any file),
/// rooms and their members; and a display name people may choose.
enum M004Files {
    static let migration = Migration(version: 4, name: "files_folders_rooms") { types in
        [
            "ALTER TABLE people ADD COLUMN display_name TEXT",
            """
            CREATE TABLE folders (
                id \(types.serialPrimaryKey),
                parent_id BIGINT REFERENCES folders(id) ON DELETE CASCADE,
                root_id BIGINT,
                kind TEXT NOT NULL,
                owner_id TEXT UNIQUE REFERENCES people(id) ON DELETE CASCADE,
                room_type TEXT,
                title TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                modified_at BIGINT NOT NULL,
                version BIGINT NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX folders_parent ON folders (parent_id)",
            "CREATE INDEX folders_root ON folders (root_id)",
            """
            CREATE TABLE blobs (
                sha256 TEXT PRIMARY KEY,
                size BIGINT NOT NULL,
                data \(types.blob) NOT NULL
            )
            """,
            """
            CREATE TABLE files (
                id \(types.serialPrimaryKey),
                folder_id BIGINT NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
                root_id BIGINT NOT NULL,
                title TEXT NOT NULL,
                content_type TEXT NOT NULL,
                size BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                modified_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX files_folder ON files (folder_id, title)",
            "CREATE INDEX files_sha256 ON files (sha256)",
            """
            CREATE TABLE room_members (
                room_id BIGINT NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
                person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                access TEXT NOT NULL,
                PRIMARY KEY (room_id, person_id)
            )
            """,
            "CREATE INDEX room_members_person ON room_members (person_id)",
            // Housekeeping finds refresh tokens rotated out long ago without scanning them all.
            "CREATE INDEX refresh_tokens_rotated ON refresh_tokens (rotated_at)",
        ]
    }
}
