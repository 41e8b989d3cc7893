/// `application/x-www-form-urlencoded` (WHATWG URL §5.1) and the small header grammars the token
/// endpoints read on every request. Byte-level on purpose: Foundation's `removingPercentEncoding`,
/// `replacingOccurrences` and `trimmingCharacters` go through `NSString` on Linux and cost more than
/// verifying a signature.
public enum FormURLEncoding {
    /// The name/value pairs of `a=1&b=2`, in order, duplicates kept: `+` is a space, `%XX` is a byte,
    /// a bad escape stays as text, bytes that are not UTF-8 are repaired (U+FFFD).
    public static func pairs(_ encoded: String) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        var utf8 = encoded.utf8[...]
        while !utf8.isEmpty {
            let end = utf8.firstIndex(of: UInt8(ascii: "&")) ?? utf8.endIndex
            let part = utf8[utf8.startIndex..<end]
            utf8 = end == utf8.endIndex ? utf8[end...] : utf8[utf8.index(after: end)...]
            guard !part.isEmpty else { continue }
            if let equals = part.firstIndex(of: UInt8(ascii: "=")) {
                pairs.append((decode(part[part.startIndex..<equals]), decode(part[part.index(after: equals)...])))
            } else {
                pairs.append((decode(part), ""))
            }
        }
        return pairs
    }

    /// One form-encoded component decoded (RFC 6749 Appendix B for client ids and secrets in Basic).
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var output = [UInt8]()
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"),
                      let first = bytes.index(index, offsetBy: 1, limitedBy: bytes.endIndex), first != bytes.endIndex,
                      let second = bytes.index(first, offsetBy: 1, limitedBy: bytes.endIndex), second != bytes.endIndex,
                      let high = hexValue(bytes[first]), let low = hexValue(bytes[second]) {
                output.append(high << 4 | low)
                index = second
            } else {
                output.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// One component encoded for a query: RFC 3986 §2.3's unreserved ASCII bytes stay, every other
    /// byte of the UTF-8 form becomes `%XX` (so it reads back the same with `decode`, `+` included).
    public static func encode(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { !isUnreserved($0) }) else { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var output = [UInt8]()
        output.reserveCapacity(utf8.count * 3)
        for byte in utf8 {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
