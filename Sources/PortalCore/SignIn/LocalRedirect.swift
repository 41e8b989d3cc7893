/// The rule for the sign-in page's `redirect` parameter: follow it only when it stays on this site.
///
/// RFC 6749 §10.15 / OWASP "unvalidated redirects": an absolute URL, a scheme-relative `//host`,
/// a backslash (which browsers read as `/`) or any control character could leave the site.
public enum LocalRedirect {
    /// `target` when it is a path on this site, otherwise `fallback`.
    public static func resolve(_ target: String?, fallback: String = "/") -> String {
        guard let target, isLocalPath(target) else { return fallback }
        return target
    }

    /// `true` for `/path?query` forms that cannot name another host.
    public static func isLocalPath(_ target: String) -> Bool {
        guard target.hasPrefix("/"), target.count <= 2048 else { return false }
        if target.hasPrefix("//") || target.hasPrefix("/\\") { return false }
        for scalar in target.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7f || scalar == "\\" { return false }
        }
        return true
    }
}
