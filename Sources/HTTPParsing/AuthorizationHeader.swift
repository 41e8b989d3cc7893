/// Reading the `Authorization` and `Content-Type` headers: bytes strangers send, read without
/// Foundation's parsers (fuzzed: Fuzz/authorization-header). What a credential means is OAuthCore's.
public enum AuthorizationHeader {
    /// The credentials after `scheme` (RFC 9110 §11.4: `scheme SP token68`, the scheme compared without
    /// case, spaces around the credentials dropped); `nil` for another scheme, for no credentials, and
    /// for credentials that are not one token68 (RFC 9110 §11.2) — a space, comma, control byte or
    /// anything outside its alphabet inside them means a second credential or garbage, never a token.
    public static func credentials(_ header: String, scheme: String) -> Substring? {
        let utf8 = header.utf8
        let name = scheme.utf8
        guard utf8.count > name.count, utf8[utf8.index(utf8.startIndex, offsetBy: name.count)] == UInt8(ascii: " "),
              zip(utf8, name).allSatisfy({ lowercase($0) == lowercase($1) })
        else { return nil }
        let credentials = trimmingSpaces(header.utf8.dropFirst(name.count + 1))
        guard !credentials.isEmpty, isToken68(credentials.utf8) else { return nil }
        return credentials
    }

    /// The media type of a `Content-Type` value without parameters, lowercased (RFC 9110 §8.3.1).
    public static func mediaType(_ contentType: String) -> String {
        let utf8 = contentType.utf8
        let end = utf8.firstIndex(of: UInt8(ascii: ";")) ?? utf8.endIndex
        let trimmed = trimmingSpaces(utf8[utf8.startIndex..<end])
        return String(decoding: trimmed.utf8.map(lowercase), as: UTF8.self)
    }

    /// RFC 9110 §11.2: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
    public static func isToken68(_ bytes: Substring.UTF8View) -> Bool {
        var padding = false
        for byte in bytes {
            if byte == UInt8(ascii: "=") { padding = true; continue }
            guard !padding else { return false }
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                continue
            default:
                return false
            }
        }
        return bytes.first != UInt8(ascii: "=")
    }

    public static func lowercase(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    public static func trimmingSpaces(_ bytes: Substring.UTF8View) -> Substring {
        var bytes = bytes
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes.removeFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes.removeLast() }
        return Substring(bytes)
    }
}
