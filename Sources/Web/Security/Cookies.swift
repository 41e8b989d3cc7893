/// The names of Gatehouse's two cookies. On https they carry the `__Host-` prefix (RFC 6265bis
/// §4.1.3.2): a browser keeps such a cookie only when it is Secure, for Path=/ and without Domain, so
/// a sibling subdomain can neither plant nor overwrite the session or the CSRF cookie.
public struct CookieNames: Sendable, Equatable {
    /// The browser session (`gh_session`).
    public let session: String
    /// The CSRF secret (`gh_csrf`).
    public let csrf: String

    public init(secure: Bool) {
        let prefix = secure ? "__Host-" : ""
        session = prefix + "gh_session"
        csrf = prefix + "gh_csrf"
    }
}
