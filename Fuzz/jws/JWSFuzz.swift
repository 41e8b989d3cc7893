import Foundation
import OAuthCore

/// The JWS/JWT reader (RFC 7515 compact serialization, RFC 7519). The harness signs what the fuzzer
/// gives with its own ES256 key — either the header and claims bytes (split at the first zero byte),
/// base64url-encoded here, or, when the input holds a ".", its two segments exactly as given (so that
/// padded, non-canonical or stray-bit base64url reaches the reader with a valid signature) — and mutated
/// bytes never carry a valid signature. Promises: the input itself, read as a token, is refused; a token
/// accepted re-encodes to exactly the same string, each segment in canonical base64url (checked with
/// Foundation's base64, not ours), naming this key and ES256; and the same token with one character
/// changed, a stray bit set in the signature's last character, or the signature's other form (r, n − s)
/// is refused.
private let signingKey: SigningKey = {
    let generated = try! SigningKey.generate(.es256)
    return try! SigningKey(keyID: "fuzz-key", algorithm: .es256, privateBytes: generated.privateBytes)
}()
private let keys = [signingKey.publicKey]

/// Any JSON object.
private struct AnyClaims: Decodable {}

private let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: start, count: count))
    if JWT.verify(String(decoding: input, as: UTF8.self), as: AnyClaims.self, keys: keys) != nil {
        fatalError("promise broken: bytes the harness did not sign were accepted")
    }
    let signingInput: String
    if let dot = input.firstIndex(of: UInt8(ascii: ".")), input.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
        signingInput = String(decoding: input[..<dot], as: UTF8.self) + "." + String(decoding: input[(dot + 1)...].filter { $0 != UInt8(ascii: ".") }, as: UTF8.self)
    } else {
        let split = input.firstIndex(of: 0) ?? input.count
        let claims = split < input.count ? Array(input[(split + 1)...]) : Array("{}".utf8)
        signingInput = Base64URL.encode(input[..<split]) + "." + Base64URL.encode(claims)
    }
    guard let signature = try? signingKey.sign(Data(signingInput.utf8)) else { return 0 }
    let signatureText = Base64URL.encode(signature)
    let token = signingInput + "." + signatureText
    guard let accepted = JWT.verify(token, as: AnyClaims.self, keys: keys) else { return 0 }
    guard let parts = JWT.parts(of: token),
          String(decoding: parts.signingInput, as: UTF8.self) + "." + Base64URL.encode(parts.signature) == token
    else { fatalError("promise broken: an accepted token does not re-encode to itself") }
    for segment in token.split(separator: ".", omittingEmptySubsequences: false) where !isCanonicalBase64URL(String(segment)) {
        fatalError("promise broken: accepted segment \(segment.debugDescription) is not canonical base64url")
    }
    guard accepted.header.alg == "ES256", accepted.header.kid == "fuzz-key" else {
        fatalError("promise broken: accepted with header \(accepted.header)")
    }
    var bytes = Array(token.utf8)
    let position = Int(input.reduce(UInt32(2166136261)) { ($0 ^ UInt32($1)) &* 16777619 } % UInt32(bytes.count))
    var mutations: [[UInt8]] = [
        { var b = bytes; let i = alphabet.firstIndex(of: b[position]) ?? 0; b[position] = alphabet[(i + 1 + position) % alphabet.count]; return b }(),
        { var b = bytes; b.remove(at: position); return b }(),
        { var b = bytes; b.insert(alphabet[position % alphabet.count], at: position); return b }(),
        bytes + Array("=".utf8),
        bytes + Array(" ".utf8),
        Array((signingInput + "." + Base64URL.encode(highS(signature))).utf8),
    ]
    // The last character of 64 bytes in base64url carries 4 bits; its 2 low bits must be zero.
    if let last = bytes.last, let index = alphabet.firstIndex(of: last) {
        for flip in 1...3 { var b = bytes; b[b.count - 1] = alphabet[index ^ flip]; mutations.append(b) }
    }
    for mutated in mutations where mutated != bytes {
        if JWT.verify(String(decoding: mutated, as: UTF8.self), as: AnyClaims.self, keys: keys) != nil {
            fatalError("promise broken: \(String(decoding: mutated, as: UTF8.self)) was accepted after a change to the signed token")
        }
    }
    bytes.removeAll()
    return 0
}

/// Canonical base64url by Foundation's decoder and encoder: no padding, no stray bits, nothing else.
private func isCanonicalBase64URL(_ text: String) -> Bool {
    guard !text.contains("="), !text.contains("+"), !text.contains("/") else { return false }
    var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while standard.count % 4 != 0 { standard += "=" }
    guard let data = Data(base64Encoded: standard) else { return false }
    let again = data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
    return again == text
}

/// The same ECDSA signature with s replaced by n − s (SEC 1 §4.1.3: both verify mathematically).
private func highS(_ signature: Data) -> Data {
    let n: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]
    guard signature.count == 64 else { return signature }
    // Schoolbook subtraction from the last byte up, as a fold (written apart from JWS.swift's on purpose).
    var borrow = 0
    let difference: [UInt8] = zip(n, signature.suffix(32)).reversed().map { pair in
        let digit = Int(pair.0) - Int(pair.1) - borrow + 256
        borrow = digit < 256 ? 1 : 0
        return UInt8(digit & 0xFF)
    }.reversed()
    return signature.prefix(32) + Data(difference)
}
