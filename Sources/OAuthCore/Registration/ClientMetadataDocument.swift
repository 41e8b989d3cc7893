import Foundation

/// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, SPEC §6): an app whose
/// `client_id` is an `https` URL at which it publishes its RFC 7591 §2 metadata. Pure: which URLs
/// qualify, how a fetched document is read, and how long it may be cached. Fetching is the caller's.
public enum ClientMetadataDocument {
    /// The largest document read (SPEC §6: 5 KB).
    public static let maximumSize = 5 * 1024
    /// The longest `client_id` URL taken.
    public static let maximumURLLength = 2048
    /// SPEC §6: a document is cached for what its `Cache-Control` says, within these bounds (seconds).
    public static let cacheLifetime: ClosedRange<TimeInterval> = 60...86_400

    /// draft §3: a client identifier URL has the `https` scheme and a path (not only "/"), no
    /// fragment, no user name or password, and no "." or ".." path segments. A query is allowed.
    public static func isDocumentURL(_ text: String) -> Bool {
        guard text.utf8.count <= maximumURLLength, text.hasPrefix("https://"), URLRules.isPrintableASCII(text),
              !text.contains("#"), !text.contains("\\"),
              let components = URLComponents(string: text), components.scheme == "https",
              let host = components.host, !host.isEmpty,
              components.user == nil, components.password == nil, components.fragment == nil
        else { return false }
        let path = components.percentEncodedPath
        guard path.count > 1, path.hasPrefix("/") else { return false }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return !segments.contains { segment in
            let decoded = segment.removingPercentEncoding ?? String(segment)
            return decoded == "." || decoded == ".."
        }
    }

    /// draft §4.1: reads a fetched document for the app at `url`. It must be a JSON object of RFC
    /// 7591 §2 metadata whose `client_id` is exactly `url`, with no secret (the app is a public
    /// client, PKCE required); its redirect URIs and links pass the registration rules, as an `open`
    /// dynamic registration's would.
    public static func read(_ bytes: Data, url: String) -> Result<DynamicRegistration.Decided, OAuthError> {
        func refused(_ message: String) -> Result<DynamicRegistration.Decided, OAuthError> { .failure(.invalidClient(message)) }
        guard bytes.count <= maximumSize else { return refused("The metadata document is larger than \(maximumSize) bytes.") }
        guard var object = (try? JSONSerialization.jsonObject(with: bytes, options: [])) as? [String: Any] else {
            return refused("The metadata document is not a JSON object.")
        }
        guard let stated = object["client_id"] as? String else { return refused("The metadata document has no client_id.") }
        guard stated == url else { return refused("The metadata document's client_id is not its own URL.") }
        // draft §4.1: no shared secret of any kind.
        for name in ["client_secret", "client_secret_expires_at"] where object[name] != nil {
            return refused("A metadata document must not carry \(name).")
        }
        switch object["token_endpoint_auth_method"] {
        case nil, is NSNull: object["token_endpoint_auth_method"] = "none"
        case let method as String where method == "none": break
        default:
            return refused("A metadata document's app is a public client: token_endpoint_auth_method must be none (with PKCE).")
        }
        switch DynamicRegistration.decide(object, policy: .open) {
        case .success(let decided): return .success(decided)
        case .failure(let error): return refused("The metadata document is refused: \(error.description)")
        }
    }

    /// How long a document may be cached: its `Cache-Control` `max-age` within `cacheLifetime`;
    /// the shortest when it says `no-store`, `no-cache` or nothing.
    public static func cacheLifetime(cacheControl: String?) -> TimeInterval {
        var lifetime = cacheLifetime.lowerBound
        for directive in (cacheControl ?? "").lowercased().split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            switch parts.first {
            case "no-store", "no-cache": return cacheLifetime.lowerBound
            case "max-age" where parts.count == 2:
                if let seconds = Int(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))) { lifetime = TimeInterval(seconds) }
            default: continue
            }
        }
        return min(max(lifetime, cacheLifetime.lowerBound), cacheLifetime.upperBound)
    }
}
