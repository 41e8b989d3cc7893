import Foundation
import GatehouseTestSupport
import OAuthCore
import Testing

/// A JWS has one spelling (issue 13, finding 8): padded or stray-bit base64url and high-S ECDSA
/// signatures are refused, and our own ES256 signatures are issued with low S.
@Suite struct JWSTests {
    struct Claims: Codable, Equatable { let sub: String; let n: Int }

    @Test func es256SignaturesAreIssuedWithLowSAndTheHighSTwinIsRefused() throws {
        let key = try SigningKey.generate(.es256)
        for round in 0..<64 {
            let token = try JWT.sign(Claims(sub: "p", n: round), key: key, type: "JWT")
            #expect(JWT.verify(token, as: Claims.self, keys: [key.publicKey])?.claims == Claims(sub: "p", n: round))
            let parts = token.split(separator: ".").map(String.init)
            let signature = try #require(Base64URL.decode(parts[2]).map(Array.init))
            let s = Array(signature[32...])
            // 2·s < n, checked as s < n − s.
            let twin = ES256Twins.highS(signature)
            #expect(s.lexicographicallyPrecedes(Array(twin[32...])), "round \(round): S was not low")
            let other = parts[0] + "." + parts[1] + "." + Base64URL.encode(twin)
            #expect(JWT.verify(other, as: Claims.self, keys: [key.publicKey]) == nil, "round \(round): the high-S twin verified")
        }
    }

    @Test func paddedOrStrayBitPartsAreRefused() throws {
        for algorithm in [JWSAlgorithm.es256, .rs256] {
            let key = try SigningKey.generate(algorithm)
            let token = try JWT.sign(Claims(sub: "person", n: 1), key: key, type: "JWT")
            #expect(JWT.verify(token, as: Claims.self, keys: [key.publicKey]) != nil)
            var parts = token.split(separator: ".").map(String.init)
            for index in 0..<3 {
                var padded = parts
                let remainder = padded[index].count % 4
                padded[index] += String(repeating: "=", count: remainder == 0 ? 1 : 4 - remainder)
                #expect(JWT.verify(padded.joined(separator: "."), as: Claims.self, keys: [key.publicKey]) == nil, "\(algorithm) part \(index) padded")
            }
            // The signature's length leaves unused bits in its last character (64 and 256 bytes are not multiples of 3).
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            let last = try #require(parts[2].last)
            let value = try #require(alphabet.firstIndex(of: last))
            parts[2] = String(parts[2].dropLast()) + String(alphabet[value | 1])
            #expect(value & 1 == 0)
            #expect(Base64URL.decode(parts[2]) == Base64URL.decode(String(token.split(separator: ".")[2])), "same bytes, other spelling")
            #expect(JWT.verify(parts.joined(separator: "."), as: Claims.self, keys: [key.publicKey]) == nil, "\(algorithm) stray bits")
        }
    }

    @Test(arguments: [
        ("", [UInt8]()), ("AA", [0]), ("AAA", [0, 0]), ("AAAA", [0, 0, 0]), ("_w", [255]), ("__8", [255, 255]),
    ])
    func canonicalBase64URLDecodes(text: String, bytes: [UInt8]) {
        #expect(Base64URL.decodeCanonical(Array(text.utf8)) == bytes)
    }

    @Test(arguments: ["AA==", "AA=", "AB", "AAB", "_x", "A", "AAAAA", "A+8", "A/8", "AA AA", "AA.A"])
    func nonCanonicalBase64URLIsRefused(text: String) {
        #expect(Base64URL.decodeCanonical(Array(text.utf8)) == nil)
    }
}
