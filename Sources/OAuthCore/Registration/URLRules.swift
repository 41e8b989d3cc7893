import Foundation

/// The URL rules of app registration (SPEC §2).
public enum URLRules {
    /// Private-use schemes taken although they are not reverse domain names (SPEC §6).
    public static let privateUseSchemesWithoutDot: Set<String> = ["claude"]

    /// Whether `given`, sent at authorize or token, names the registered redirect URI `registered`:
    /// the exact string (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3), or for `http` on a loopback host the same
    /// URI with any port (RFC 8252 §7.3: a native app listens on whichever port the system gives it).
    /// Scheme, host, path and query must still be the same.
    public static func redirectURI(_ given: String, matches registered: String) -> Bool {
        if given == registered { return true }
        guard let sent = URLComponents(string: given), let known = URLComponents(string: registered),
              sent.scheme == "http", known.scheme == "http",
              let host = sent.host, let knownHost = known.host, host == knownHost, isLoopback(host),
              sent.user == nil, sent.password == nil, sent.fragment == nil,
              sent.percentEncodedPath == known.percentEncodedPath, sent.percentEncodedQuery == known.percentEncodedQuery
        else { return false }
        // Only the port may differ, written plainly (1–65535, no leading zeros): `given` must be the
        // registered string with its port replaced, so nothing else can have been written another way.
        if let port = sent.port, !(1...65535).contains(port) { return false }
        var withPort = known
        withPort.port = sent.port
        return withPort.string == given
    }

    static func isLoopback(_ host: String) -> Bool {
        loopbackHosts.contains(host) || loopbackHosts.contains("[\(host)]")
    }

    /// RFC 8252 §7.1 and §7.3: a native app's redirect URI, loopback http or a private-use scheme, which
    /// comes back only to this device (the `native` dynamic registration policy and the consent screen's
    /// warning, SPEC §6). Assumes `redirectURIProblem` found none.
    public static func isNativeRedirect(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else { return false }
        switch scheme {
        case "https": return false
        case "http": return isLoopback(components.host?.lowercased() ?? "")
        default: return true
        }
    }

    /// The hosts RFC 8252 §7.3 and §8.3 treat as loopback, for which plain http is acceptable.
    public static let loopbackHosts: Set<String> = ["localhost", "127.0.0.1", "[::1]", "::1"]

    /// Longest URL accepted anywhere in a registration.
    public static let maximumLength = 2048

    /// `true` when every byte is printable ASCII (0x21–0x7E). RFC 3986 §2 lets a URI carry nothing
    /// else: control characters, spaces, raw non-ASCII and bidi controls (which make a URL read
    /// differently from what it is) must be percent-encoded, so a registration refuses them raw.
    public static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// `true` for an absolute `http` or `https` URL with a host and no credentials.
    public static func isAbsoluteWebURL(_ text: String) -> Bool {
        guard text.count <= maximumLength, isPrintableASCII(text),
              let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty,
              components.user == nil, components.password == nil
        else { return false }
        return true
    }

    /// Why `text` cannot be a redirect URI, or `nil` when it can.
    ///
    /// RFC 6749 §3.1.2: absolute, no fragment. RFC 9700 §2.1 / §4.1.3: compared as exact strings,
    /// so no wildcards. RFC 8252 §7.1 (private-use URI schemes of native apps, reverse domain names),
    /// §7.3 (http only on loopback), §8.4 (https otherwise).
    public static func redirectURIProblem(_ text: String) -> String? {
        guard !text.isEmpty else { return "must not be empty" }
        guard text.count <= maximumLength else { return "must be at most \(maximumLength) characters" }
        if text.contains(where: { $0.isWhitespace }) { return "must not contain spaces" }
        if !isPrintableASCII(text) {
            return "must not contain control characters or raw non-ASCII characters; percent-encode them (RFC 3986)"
        }
        if text.contains("#") { return "must not have a fragment (#)" }
        if text.contains("*") { return "must be an exact URL, without wildcards (*)" }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "must be an absolute URL"
        }
        if components.user != nil || components.password != nil { return "must not contain a user name or password" }
        switch scheme {
        case "https":
            guard let host = components.host, !host.isEmpty else { return "must name a host" }
            return nil
        case "http":
            guard let host = components.host?.lowercased(), !host.isEmpty else { return "must name a host" }
            return loopbackHosts.contains(host) || loopbackHosts.contains("[\(host)]")
                ? nil : "may use http only for localhost, 127.0.0.1 or [::1]; use https"
        case "javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss":
            return "cannot use the \(scheme): scheme"
        default:
            // A private-use scheme: RFC 8252 §7.1 asks for a reverse domain name (with a dot); DocSpace
            // also takes `claude:`, the scheme of Claude's desktop app (SPEC §6).
            guard (scheme.contains(".") || privateUseSchemesWithoutDot.contains(scheme)), scheme.first?.isLetter == true else {
                return "must use https, http on loopback, or a private-use scheme such as com.example.app:/callback"
            }
            guard !components.path.isEmpty || components.host != nil else { return "must have a path" }
            return nil
        }
    }

    /// The normalized origin (`scheme://host[:port]`, lowercase, default port dropped), or why not.
    ///
    /// RFC 6454 §4 / §6.1: an origin is scheme, host and port; nothing else belongs in it.
    public static func normalizedOrigin(_ text: String) -> Result<String, OriginProblem> {
        var trimmed = text
        if trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard text.count <= maximumLength, isPrintableASCII(trimmed),
              let components = URLComponents(string: trimmed),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host?.lowercased(), !host.isEmpty
        else { return .failure(.notAnOrigin) }
        guard components.path.isEmpty, components.query == nil, components.fragment == nil,
              components.user == nil, components.password == nil
        else { return .failure(.hasMoreThanOrigin) }
        if host.contains("*") { return .failure(.notAnOrigin) }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port, !(scheme == "https" && port == 443), !(scheme == "http" && port == 80) {
            return .success("\(scheme)://\(hostPart):\(port)")
        }
        return .success("\(scheme)://\(hostPart)")
    }

    /// Why a value is not an origin.
    public enum OriginProblem: Error, Equatable {
        /// Not `http(s)://host`.
        case notAnOrigin
        /// A path, query, fragment or credentials follow the host.
        case hasMoreThanOrigin
    }
}
