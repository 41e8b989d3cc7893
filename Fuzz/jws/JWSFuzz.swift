import Foundation
import OAuthCore

/// The JWS/JWT reader (RFC 7515 compact serialization, RFC 7519). The input is a header and claims
/// (split at the first zero byte), which the harness signs itself with its own ES256 key; mutated
/// bytes never carry a valid signature. Promises: the input itself, read as a token, is refused; a
/// token accepted re-encodes to exactly the same string, and names this key and its algorithm; the
/// same token with any one character changed after signing is refused.
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
    let split = input.firstIndex(of: 0) ?? input.count
    let header = Array(input[..<split])
    let claims = split < input.count ? Array(input[(split + 1)...]) : Array("{}".utf8)
    let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(claims)
    guard let signature = try? signingKey.sign(Data(signingInput.utf8)) else { return 0 }
    let token = signingInput + "." + Base64URL.encode(signature)
    guard let accepted = JWT.verify(token, as: AnyClaims.self, keys: keys) else { return 0 }
    guard let parts = JWT.parts(of: token),
          String(decoding: parts.signingInput, as: UTF8.self) + "." + Base64URL.encode(parts.signature) == token,
          Base64URL.encode(parts.payload) == Base64URL.encode(claims)
    else { fatalError("promise broken: an accepted token does not re-encode to itself") }
    guard accepted.header.alg == "ES256", accepted.header.kid == "fuzz-key" else {
        fatalError("promise broken: accepted with header \(accepted.header)")
    }
    // Change one character (chosen by the input) to another of the alphabet, or drop it, or add one.
    var bytes = Array(token.utf8)
    let position = Int(input.reduce(UInt32(2166136261)) { ($0 ^ UInt32($1)) &* 16777619 } % UInt32(bytes.count))
    let mutations: [[UInt8]] = [
        { var b = bytes; let i = alphabet.firstIndex(of: b[position]) ?? 0; b[position] = alphabet[(i + 1 + position) % alphabet.count]; return b }(),
        { var b = bytes; b.remove(at: position); return b }(),
        { var b = bytes; b.insert(alphabet[position % alphabet.count], at: position); return b }(),
        bytes + Array("=".utf8),
        bytes + Array(" ".utf8),
    ]
    for mutated in mutations where mutated != bytes {
        if JWT.verify(String(decoding: mutated, as: UTF8.self), as: AnyClaims.self, keys: keys) != nil {
            fatalError("promise broken: \(String(decoding: mutated, as: UTF8.self)) was accepted after a change to the signed token")
        }
    }
    bytes.removeAll()
    return 0
}
