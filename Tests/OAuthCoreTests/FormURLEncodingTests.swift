import Foundation
import OAuthCore
import Testing

@Suite struct FormURLEncodingTests {
    @Test(arguments: [
        ("a=1&b=2", [("a", "1"), ("b", "2")]),
        ("a=1&&b=", [("a", "1"), ("b", "")]),
        ("flag", [("flag", "")]),
        ("x=a%20b+c", [("x", "a b c")]),
        ("x=%E2%9C%93", [("x", "✓")]),
        ("x=100%&y=%zz", [("x", "100%"), ("y", "%zz")]),
        ("x=a=b", [("x", "a=b")]),
        ("%61=1&a=2", [("a", "1"), ("a", "2")]),
        ("x=%FF", [("x", "\u{FFFD}")]),
    ])
    func pairs(encoded: String, expected: [(String, String)]) {
        let pairs = FormURLEncoding.pairs(encoded)
        #expect(pairs.map(\.name) == expected.map(\.0))
        #expect(pairs.map(\.value) == expected.map(\.1))
    }

    @Test(arguments: [
        ("plain-._~AZaz09", "plain-._~AZaz09"), ("a b+c", "a%20b%2Bc"), ("x=1&y", "x%3D1%26y"), ("é✓", "%C3%A9%E2%9C%93"),
        ("https://app.example/cb?q=1#f", "https%3A%2F%2Fapp.example%2Fcb%3Fq%3D1%23f"), ("", ""),
    ])
    func encode(text: String, expected: String) {
        #expect(FormURLEncoding.encode(text) == expected)
        #expect(FormURLEncoding.decode(Array(expected.utf8)) == text)
    }

    /// RFC 6749 §3.1.2 / §4.1.2 and RFC 9207: the registered query is kept verbatim, ours is appended.
    @Test(arguments: [
        ("https://app.example/cb", "https://app.example/cb?code=c%2Bd&state=s%20t&iss=https%3A%2F%2Fid.example"),
        ("https://app.example/cb?x=a+b&y=%41", "https://app.example/cb?x=a+b&y=%41&code=c%2Bd&state=s%20t&iss=https%3A%2F%2Fid.example"),
        ("https://app.example/cb?", "https://app.example/cb?code=c%2Bd&state=s%20t&iss=https%3A%2F%2Fid.example"),
        ("com.example.app:/cb", "com.example.app:/cb?code=c%2Bd&state=s%20t&iss=https%3A%2F%2Fid.example"),
    ])
    func responseURL(redirectURI: String, expected: String) {
        let url = AuthorizationChecks.responseURL(
            redirectURI: redirectURI, parameters: [("code", "c+d"), ("state", "s t"), ("nonce", nil)], issuer: "https://id.example")
        #expect(url == expected)
    }

    @Test func base64() {
        #expect(Base64.decode("aWQ6c2VjcmV0".utf8) == Array("id:secret".utf8))
        #expect(Base64.decode("YT8+Pw==".utf8) == Array("a?>?".utf8))
        #expect(Base64.decode("YT8-Pw".utf8) == nil)
        #expect(Base64.decode("Y".utf8) == nil)
    }

    /// RFC 6749 §2.3.1: id and secret are form-encoded before Base64; one method per request.
    @Test func basicCredentials() throws {
        func basic(_ text: String) -> ClientAuthorizationHeader { .basic(Data(text.utf8).base64EncodedString()) }
        let noBody: (String) -> String? = { _ in nil }
        #expect(try ClientCredentials.parse(authorization: basic("my%20id:s%2Bc+r"), form: noBody).get() == .basic(clientID: "my id", secret: "s+c r"))
        #expect(try ClientCredentials.parse(authorization: basic("id:a:b"), form: noBody).get() == .basic(clientID: "id", secret: "a:b"))
        for bad in [ClientAuthorizationHeader.basic("!!!"), basic("no-colon"), basic(":secret"), .other] {
            guard case .failure(let error) = ClientCredentials.parse(authorization: bad, form: noBody) else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(error.code == "invalid_client")
        }
        let both = ClientCredentials.parse(authorization: basic("id:s"), form: { $0 == "client_secret" ? "s" : nil })
        guard case .failure(let error) = both else { Issue.record("both methods accepted"); return }
        #expect(error.code == "invalid_request")
    }
}
