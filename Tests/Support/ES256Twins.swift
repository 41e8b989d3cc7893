/// The high-S twin of an ES256 signature (R‖S with S replaced by n − S), computed apart from the code
/// under test, for the tests that a JWS has one spelling.
public enum ES256Twins {
    /// n of P-256 (SEC 2 §2.4.2).
    public static let order: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]

    /// `signature` (64 bytes) with S replaced by n − S.
    public static func highS(_ signature: [UInt8]) -> [UInt8] {
        var s = Array(signature[32...])
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            let digit = Int(order[index]) - Int(s[index]) - borrow
            borrow = digit < 0 ? 1 : 0
            s[index] = UInt8((digit + 256) % 256)
        }
        return Array(signature[..<32]) + s
    }
}
