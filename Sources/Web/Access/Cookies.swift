import Hummingbird

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

extension Request {
    /// The value of the cookie `name` (RFC 6265 §4.2.1: `name=value` pairs separated by `; `), read
    /// strictly: only spaces and tabs around a pair are dropped and names are compared byte for byte.
    /// `nil` when `name` comes more than once, or when any cookie name holds a byte outside visible
    /// ASCII — a lenient reader would take `"\u{2000}__Host-gh_session"`, which a sibling subdomain may
    /// set because browsers do not hold it to the prefix's rules, for the `__Host-` cookie itself.
    func cookie(_ name: String) -> String? {
        var found: String?
        for field in headers where field.name == .cookie {
            for pair in field.value.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: true) {
                var pair = pair[...]
                while let first = pair.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { pair.removeFirst() }
                while let last = pair.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { pair.removeLast() }
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                let pairName = pair[pair.startIndex..<equals]
                guard pairName.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
                guard pairName.elementsEqual(name.utf8) else { continue }
                guard found == nil else { return nil }
                found = equals == pair.endIndex ? "" : String(decoding: pair[pair.index(after: equals)...], as: UTF8.self)
            }
        }
        return found
    }
}
