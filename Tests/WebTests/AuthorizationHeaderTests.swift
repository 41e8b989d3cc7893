import HTTPParsing
import Testing
@testable import Web

/// The `Authorization` header (RFC 9110 §11.6.2): `scheme SP token68`, the scheme compared without
/// case; never two credentials, never one with white space or control bytes inside.
@Suite struct AuthorizationHeaderTests {
    @Test(arguments: [
        ("Basic abc", "Basic", "abc"), ("basic   abc  ", "Basic", "abc"), ("BEARER t.o.k", "Bearer", "t.o.k"),
        ("Bearer aGk=", "Bearer", "aGk="), ("Bearer a-b_c~d+e/f", "Bearer", "a-b_c~d+e/f"),
    ])
    func credentials(header: String, scheme: String, expected: String) {
        #expect(AuthorizationHeader.credentials(header, scheme: scheme) == Substring(expected))
    }

    @Test(arguments: [
        ("Basicabc", "Basic"), ("Bearer abc", "Basic"), ("Basic", "Basic"), ("", "Bearer"), ("Bearer ", "Bearer"),
        ("Bearer a b", "Bearer"), ("Bearer a,Bearer b", "Bearer"), ("Bearer a\tb", "Bearer"), ("Bearer a\u{0}b", "Bearer"),
        ("Bearer a\u{7F}", "Bearer"), ("Bearer =abc", "Bearer"), ("Bearer ab=c", "Bearer"), ("Bearer t\u{E9}st", "Bearer"),
        ("Bearer a\r\nX: y", "Bearer"),
    ])
    func otherSchemesAndNonTokensAreRefused(header: String, scheme: String) {
        #expect(AuthorizationHeader.credentials(header, scheme: scheme) == nil)
    }

    @Test func clientHeaders() {
        #expect(AuthorizationHeader.client(nil) == nil)
        #expect(AuthorizationHeader.client("Basic aWQ6cw==") == .basic("aWQ6cw=="))
        #expect(AuthorizationHeader.client("Bearer x") == .other)
        #expect(AuthorizationHeader.client("Basic a b") == .other)
    }

    @Test(arguments: [
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        (" Application/JSON ; charset=utf-8", "application/json"), ("text/plain;", "text/plain"),
    ])
    func mediaType(header: String, expected: String) {
        #expect(AuthorizationHeader.mediaType(header) == expected)
    }
}
