/// A sign-in attempt reserves its place in the failure counts before its password is checked (the
/// row is released when the password was right), so concurrent attempts cannot exceed the limits:
/// each row names the attempt that made it.
enum M005SignInReservations {
    static let migration = Migration(version: 5, name: "sign_in_reservations") { _ in
        [
            "ALTER TABLE sign_in_failures ADD COLUMN attempt TEXT",
            "CREATE INDEX sign_in_failures_attempt ON sign_in_failures (attempt)",
        ]
    }
}
