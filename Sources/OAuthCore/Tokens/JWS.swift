import _CryptoExtras
import Crypto
import Foundation

/// The two JWS algorithms Gatehouse signs with (RFC 7518 §3.1): ES256 for access tokens,
/// RS256 (OpenID Connect's default) for ID tokens.
public enum JWSAlgorithm: String, Sendable, Codable {
    case es256 = "ES256"
    case rs256 = "RS256"
}

/// A private signing key with its key id. Keys are parsed once and kept; nothing is parsed per token.
public struct SigningKey: Sendable {
    enum Material: Sendable {
        case p256(P256.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    /// The `kid` published in the JWKS.
    public let keyID: String
    let material: Material

    /// The algorithm this key signs with.
    public var algorithm: JWSAlgorithm {
        switch material {
        case .p256: .es256
        case .rsa: .rs256
        }
    }

    /// A new key: P-256 for ES256, 2048-bit RSA for RS256.
    public static func generate(_ algorithm: JWSAlgorithm) throws -> SigningKey {
        let keyID = OpaqueToken.generate(byteCount: 12)
        switch algorithm {
        case .es256: return SigningKey(keyID: keyID, material: .p256(P256.Signing.PrivateKey()))
        case .rs256: return SigningKey(keyID: keyID, material: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)))
        }
    }

    /// The private key's bytes (P-256 raw scalar, RSA PKCS#1 DER), to be stored encrypted.
    public var privateBytes: Data {
        switch material {
        case .p256(let key): key.rawRepresentation
        case .rsa(let key): key.derRepresentation
        }
    }

    /// Reads a key back from `privateBytes`.
    public init(keyID: String, algorithm: JWSAlgorithm, privateBytes: Data) throws {
        self.keyID = keyID
        switch algorithm {
        case .es256: material = .p256(try P256.Signing.PrivateKey(rawRepresentation: privateBytes))
        case .rs256: material = .rsa(try _RSA.Signing.PrivateKey(derRepresentation: privateBytes))
        }
    }

    init(keyID: String, material: Material) {
        self.keyID = keyID
        self.material = material
    }

    /// The matching public key.
    public var publicKey: VerificationKey {
        switch material {
        case .p256(let key): VerificationKey(keyID: keyID, material: .p256(key.publicKey))
        case .rsa(let key): VerificationKey(keyID: keyID, material: .rsa(key.publicKey))
        }
    }

    /// The JWS signature of `input` (RFC 7518 §3.4: ES256 is R‖S, 64 bytes; §3.3: RS256 is PKCS#1 v1.5).
    /// An ES256 signature is issued with low S (BoringSSL does not normalize it), the only form
    /// `verify` accepts, so no token has a second valid encoding.
    public func sign(_ input: Data) throws -> Data {
        switch material {
        case .p256(let key): P256Order.lowS(try key.signature(for: input).rawRepresentation)
        case .rsa(let key): try key.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation
        }
    }
}

/// A public key that checks signatures and is published in the JWKS.
public struct VerificationKey: Sendable {
    enum Material: Sendable {
        case p256(P256.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    /// The `kid`.
    public let keyID: String
    let material: Material

    init(keyID: String, material: Material) {
        self.keyID = keyID
        self.material = material
    }

    /// The algorithm of the key.
    public var algorithm: JWSAlgorithm {
        switch material {
        case .p256: .es256
        case .rsa: .rs256
        }
    }

    /// Reads a public JWK (as a client library would from the JWKS); `nil` for anything else.
    public init?(jwk: [String: String]) {
        guard let keyID = jwk["kid"] else { return nil }
        self.keyID = keyID
        switch (jwk["kty"], jwk["crv"]) {
        case ("EC", "P-256"):
            guard let x = jwk["x"].flatMap(Base64URL.decode), let y = jwk["y"].flatMap(Base64URL.decode),
                  let key = try? P256.Signing.PublicKey(rawRepresentation: x + y)
            else { return nil }
            material = .p256(key)
        case ("RSA", _):
            guard let n = jwk["n"].flatMap(Base64URL.decode), let e = jwk["e"].flatMap(Base64URL.decode),
                  let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { return nil }
            material = .rsa(key)
        default:
            return nil
        }
    }

    /// `true` when `signature` is this key's signature of `input`.
    public func verify(_ signature: Data, for input: Data) -> Bool {
        switch material {
        case .p256(let key):
            // (r, n − s) verifies as well as (r, s): only the low-S form is taken, so a signature is canonical.
            guard signature.count == 64, P256Order.isLowS(signature),
                  let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(parsed, for: input)
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
        }
    }

    /// The public JWK (RFC 7517 §4, RFC 7518 §6.2 and §6.3), with `kid`, `use` and `alg`.
    public var jwk: [String: String] {
        switch material {
        case .p256(let key):
            let raw = key.rawRepresentation  // X ‖ Y, 32 bytes each
            return [
                "kty": "EC", "crv": "P-256", "x": Base64URL.encode(raw.prefix(32)), "y": Base64URL.encode(raw.suffix(32)),
                "kid": keyID, "use": "sig", "alg": JWSAlgorithm.es256.rawValue,
            ]
        case .rsa(let key):
            let primitives = try? key.getKeyPrimitives()
            return [
                "kty": "RSA", "n": Base64URL.encode(primitives?.modulus ?? Data()),
                "e": Base64URL.encode(primitives?.publicExponent ?? Data()),
                "kid": keyID, "use": "sig", "alg": JWSAlgorithm.rs256.rawValue,
            ]
        }
    }
}

/// Compact JWS (RFC 7515 §3.1) for JWTs (RFC 7519).
public enum JWT {
    /// The JOSE header.
    public struct Header: Codable, Sendable, Equatable {
        public var alg: String
        public var typ: String?
        public var kid: String?
    }

    /// Signs `claims` with `key`; `type` is the `typ` header (`at+jwt` for RFC 9068 access tokens, `JWT` otherwise).
    public static func sign(_ claims: some Encodable, key: SigningKey, type: String) throws -> String {
        let header = Header(alg: key.algorithm.rawValue, typ: type, kid: key.keyID)
        let input = Base64URL.encode(try StreamingJSONEncoder.encode(header)) + "." + Base64URL.encode(try StreamingJSONEncoder.encode(claims))
        return input + "." + Base64URL.encode(try key.sign(Data(input.utf8)))
    }

    /// A token taken apart; the signature is not checked yet.
    public struct Parts: Sendable {
        public let header: Header
        public let payload: Data
        public let signingInput: Data
        public let signature: Data
    }

    /// Splits a compact JWS; `nil` when it is not one. Each part must be base64url in its canonical
    /// form (no padding, no stray bits), so a token has one spelling and revoking it revokes all.
    public static func parts(of token: String) -> Parts? {
        let utf8 = token.utf8
        guard utf8.count < 16_384,
              let firstDot = utf8.firstIndex(of: UInt8(ascii: ".")),
              let secondDot = utf8[utf8.index(after: firstDot)...].firstIndex(of: UInt8(ascii: ".")),
              !utf8[utf8.index(after: secondDot)...].contains(UInt8(ascii: ".")),
              let headerBytes = Base64URL.decodeCanonical(utf8[..<firstDot]),
              let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)),
              let payload = Base64URL.decodeCanonical(utf8[utf8.index(after: firstDot)..<secondDot]),
              let signature = Base64URL.decodeCanonical(utf8[utf8.index(after: secondDot)...])
        else { return nil }
        return Parts(header: header, payload: Data(payload), signingInput: Data(utf8[..<secondDot]), signature: Data(signature))
    }

    /// The claims of a token whose signature one of `keys` verifies with the algorithm it names;
    /// `nil` otherwise (unknown `kid`, `alg` confusion, bad signature, undecodable claims).
    public static func verify<Claims: Decodable>(_ token: String, as type: Claims.Type, keys: [VerificationKey], expectedType: String? = nil)
        -> (claims: Claims, header: Header)?
    {
        guard let parts = parts(of: token),
              let key = keys.first(where: { $0.keyID == parts.header.kid }),
              key.algorithm.rawValue == parts.header.alg,
              expectedType == nil || parts.header.typ?.lowercased() == expectedType?.lowercased(),
              key.verify(parts.signature, for: parts.signingInput),
              let claims = try? JSONDecoder().decode(Claims.self, from: parts.payload)
        else { return nil }
        return (claims, parts.header)
    }
}

/// The order n of the P-256 group (SEC 2 §2.4.2), for keeping ECDSA signatures in low-S form.
enum P256Order {
    static let n: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]
    /// ⌊n / 2⌋.
    static let halfN: [UInt8] = {
        var half = [UInt8](repeating: 0, count: 32)
        var carry: UInt8 = 0
        for index in 0..<32 {
            half[index] = (n[index] >> 1) | (carry << 7)
            carry = n[index] & 1
        }
        return half
    }()

    /// `true` when S (the last 32 bytes of R‖S) is at most n/2.
    static func isLowS(_ signature: Data) -> Bool {
        let s = Array(signature.suffix(32))
        return s == halfN || s.lexicographicallyPrecedes(halfN)
    }

    /// The same signature with S replaced by n − S when S is above n/2.
    static func lowS(_ signature: Data) -> Data {
        guard signature.count == 64, !isLowS(signature) else { return signature }
        let s = Array(signature.suffix(32))
        var out = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            var digit = Int(n[index]) - Int(s[index]) - borrow
            borrow = digit < 0 ? 1 : 0
            if digit < 0 { digit += 256 }
            out[index] = UInt8(digit)
        }
        return signature.prefix(32) + Data(out)
    }
}
