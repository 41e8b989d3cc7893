import Foundation
import OAuthCore
import Testing

@Suite struct OpaqueTokenTests {
    @Test func tokensCarry256BitsAsBase64URL() {
        let token = OpaqueToken.generate()
        #expect(token.count == 43)
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(Base64URL.decode(token)?.count == 32)
    }

    @Test func tokensDoNotRepeat() {
        let tokens = Set((0..<1000).map { _ in OpaqueToken.generate() })
        #expect(tokens.count == 1000)
    }

    @Test func hashIsSHA256Hex() {
        // FIPS 180-2 test vector for "abc".
        #expect(OpaqueToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(OpaqueToken.hash("abc") != OpaqueToken.hash("abd"))
    }

    @Test(arguments: [
        ("secret", "secret", true),
        ("secret", "secreT", false),
        ("secret", "secret2", false),
        ("", "", true),
        ("a", "", false),
    ])
    func constantTimeEquality(lhs: String, rhs: String, equal: Bool) {
        #expect(ConstantTime.equals(lhs, rhs) == equal)
    }

    @Test func base64URLRoundTripsWithoutPadding() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xfe, 0x00, 0x01]
        let text = Base64URL.encode(bytes)
        #expect(text == "-__-AAE")
        #expect(Base64URL.decode(text).map(Array.init) == bytes)
        #expect(Base64URL.decode("not base64!") == nil)
    }
}
