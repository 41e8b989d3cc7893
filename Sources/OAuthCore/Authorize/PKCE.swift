import Crypto
import Foundation

/// Proof Key for Code Exchange (RFC 7636), S256 only.
public enum PKCE {
    /// RFC 7636 §4.1: 43–128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
    public static func isValidVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.count) && verifier.unicodeScalars.allSatisfy(isUnreserved)
    }

    /// RFC 7636 §4.2: an S256 challenge is base64url(SHA-256) without padding: 43 characters.
    public static func isValidChallenge(_ challenge: String) -> Bool {
        challenge.count == 43 && challenge.unicodeScalars.allSatisfy { isUnreserved($0) && $0 != "." && $0 != "~" }
    }

    /// RFC 7636 §4.6: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge`, compared in constant time.
    public static func verify(verifier: String, challenge: String) -> Bool {
        ConstantTime.equals(PKCE.challenge(for: verifier), challenge)
    }

    /// The S256 challenge of a verifier.
    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
    }

    static func isUnreserved(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", ".", "_", "~": true
        default: false
        }
    }
}
