/// Apps known by a Client ID Metadata Document (SPEC §6): their `client_id` is a URL, so the clients
/// API and Developer Tools address them by an opaque id of their own.
enum M011ClientMetadataDocuments {
    static let migration = Migration(version: 11, name: "client_metadata_documents") { _ in
        [
            "ALTER TABLE oauth_clients ADD COLUMN document_app_id TEXT",
            "CREATE UNIQUE INDEX oauth_clients_document_app ON oauth_clients (document_app_id)",
        ]
    }
}
