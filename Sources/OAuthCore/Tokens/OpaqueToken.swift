import Crypto
import Foundation

/// Opaque, high-entropy bearer values (session tokens, client secrets, refresh tokens, codes).
///
/// RFC 6749 §10.10: tokens must be infeasible to guess, so every value carries 256 bits from the
/// system's cryptographic random source. Only the SHA-256 hash of a value is ever stored
/// (RFC 6819 §5.1.4.1.3): a database leak does not leak a usable credential, and because the values
/// are high-entropy a fast hash is enough — no bcrypt on the hot path.
public enum OpaqueToken {
    /// A new random value: 32 bytes from the CSPRNG (BoringSSL's, seeded by the kernel), base64url
    /// without padding (43 characters). One call per token, not one system call per byte.
    public static func generate(byteCount: Int = 32) -> String {
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: byteCount * 8))
        return key.withUnsafeBytes { Base64URL.encode($0) }
    }

    /// The value stored in place of `token`: lowercase hex SHA-256.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }
}

/// Comparison of secrets that takes the same time wherever the first difference lies.
public enum ConstantTime {
    /// `true` when `lhs` and `rhs` hold the same bytes; time depends only on the lengths.
    public static func equals(_ lhs: String, _ rhs: String) -> Bool {
        equals(Array(lhs.utf8), Array(rhs.utf8))
    }

    /// `true` when the two byte strings are equal; time depends only on the lengths.
    public static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference: UInt8 = lhs.count == rhs.count ? 0 : 1
        let count = max(lhs.count, rhs.count)
        for index in 0..<count {
            let a = index < lhs.count ? lhs[index] : 0
            let b = index < rhs.count ? rhs[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }
}

/// RFC 4648 §5 base64url, without padding (as JOSE and PKCE use it). Byte-level: it runs on
/// every token check, so it stays away from `String` searching and `Character` properties.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Encodes bytes as base64url without `=` padding.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var output = [UInt8]()
        output.reserveCapacity((input.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output += [alphabet[Int(chunk >> 18 & 63)], alphabet[Int(chunk >> 12 & 63)], alphabet[Int(chunk >> 6 & 63)], alphabet[Int(chunk & 63)]]
            index += 3
        }
        switch input.count - index {
        case 1:
            let chunk = UInt32(input[index]) << 16
            output += [alphabet[Int(chunk >> 18 & 63)], alphabet[Int(chunk >> 12 & 63)]]
        case 2:
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            output += [alphabet[Int(chunk >> 18 & 63)], alphabet[Int(chunk >> 12 & 63)], alphabet[Int(chunk >> 6 & 63)]]
        default:
            break
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes base64url with or without padding; `nil` for anything else.
    public static func decode(_ text: String) -> Data? { decode(text.utf8, values: values).map { Data($0) } }

    /// Decodes base64url in its one canonical form (RFC 7515 §2 and Appendix C, RFC 4648 §3.5): no `=`
    /// padding and no stray bits in the last character, so that each byte string has exactly one
    /// encoding. `nil` for anything else.
    public static func decodeCanonical<Bytes: BidirectionalCollection>(_ input: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        guard input.last != UInt8(ascii: "="), let bytes = decode(input, values: values) else { return nil }
        // The last character's unused low bits (2 or 4 of them) must be zero.
        if let last = input.last, input.count % 4 != 0 {
            let unused: UInt8 = input.count % 4 == 2 ? 0x0F : 0x03
            guard values[Int(last)] & unused == 0 else { return nil }
        }
        return bytes
    }

    /// Decodes with the given table (0xFF marks bytes outside the alphabet); `=` padding may end it.
    static func decode<Bytes: BidirectionalCollection>(_ input: Bytes, values: [UInt8]) -> [UInt8]? where Bytes.Element == UInt8 {
        var utf8 = input[...]
        while utf8.last == UInt8(ascii: "=") { utf8.removeLast() }
        guard utf8.count % 4 != 1 else { return nil }
        var output = [UInt8]()
        output.reserveCapacity(utf8.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in utf8 {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return output
    }
}

/// RFC 4648 §4 base64 with the standard alphabet, as `Authorization: Basic` carries it (RFC 7617 §2).
public enum Base64 {
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    /// The bytes of `text`; `nil` when it is not base64.
    public static func decode<Bytes: BidirectionalCollection>(_ text: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        Base64URL.decode(text, values: values)
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
