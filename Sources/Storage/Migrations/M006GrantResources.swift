/// RFC 8707: the resources a grant's tokens are for, named at authorize; space-separated, empty for
/// a grant asked for without `resource` (its tokens are for the issuer).
enum M006GrantResources {
    static let migration = Migration(version: 6, name: "grant_resources") { _ in
        ["ALTER TABLE grants ADD COLUMN resources TEXT NOT NULL DEFAULT ''"]
    }
}
