import Foundation
import OAuthCore
import Testing

/// Client ID Metadata Documents (SPEC §6, draft-ietf-oauth-client-id-metadata-document): which
/// `client_id` URLs qualify, and how a fetched document is read.
@Suite struct ClientMetadataDocumentTests {
    static let url = "https://assistant.example/oauth/client.json"

    static func document(_ changes: [String: Any?] = [:]) -> Data {
        var object: [String: Any] = [
            "client_id": url, "client_name": "Assistant", "redirect_uris": ["https://assistant.example/callback", "http://127.0.0.1/cb"],
            "scope": "files:read openid", "client_uri": "https://assistant.example",
        ]
        for (key, value) in changes { object[key] = value }
        return try! JSONSerialization.data(withJSONObject: object)
    }

    @Test(arguments: [
        "https://assistant.example/oauth/client.json", "https://assistant.example:8443/c", "https://a.example/c?v=1",
        "https://127.0.0.1:9443/app.json",
    ])
    func documentURLsQualify(_ text: String) {
        #expect(ClientMetadataDocument.isDocumentURL(text))
        #expect(ClientID(validating: text)?.rawValue == text)
        #expect(ClientID(validating: text)?.isDocumentURL == true)
    }

    @Test(arguments: [
        "http://assistant.example/client.json", "https://assistant.example", "https://assistant.example/",
        "https://assistant.example/a/../client.json", "https://assistant.example/./client.json", "https://assistant.example/%2e%2e/c",
        "https://user:pw@assistant.example/c", "https://assistant.example/c#frag", "https:///c", "https://assistant.example/c d",
        "javascript://assistant.example/c", "https://assistant.example/" + String(repeating: "a", count: 2100), "",
    ])
    func otherURLsDoNot(_ text: String) {
        #expect(!ClientMetadataDocument.isDocumentURL(text))
        #expect(ClientID(validating: text) == nil)
    }

    @Test func uuidsStayClientIDs() {
        let id = ClientID(validating: "6F9619FF-8B86-D011-B42D-00C04FC964FF")
        #expect(id?.rawValue == "6f9619ff-8b86-d011-b42d-00c04fc964ff")
        #expect(id?.isDocumentURL == false)
    }

    @Test func aGoodDocumentIsAPublicClient() throws {
        let decided = try ClientMetadataDocument.read(Self.document(), url: Self.url).get()
        #expect(decided.authMethod == "none" && !decided.confidential)
        #expect(decided.registration.name == "Assistant")
        #expect(decided.registration.redirectURIs == ["https://assistant.example/callback", "http://127.0.0.1/cb"])
        #expect(decided.registration.scopes == ["files:read", "openid"])
        #expect(decided.registration.allowPKCE)
        let explicit = try ClientMetadataDocument.read(Self.document(["token_endpoint_auth_method": "none"]), url: Self.url).get()
        #expect(explicit.authMethod == "none")
    }

    @Test(arguments: [
        ("another client_id", document(["client_id": "https://evil.example/client.json"]), "is not its own URL"),
        ("no client_id", document(["client_id": nil]), "has no client_id"),
        ("client_id with a slash added", document(["client_id": url + "/"]), "is not its own URL"),
        ("a secret", document(["client_secret": "s3cret"]), "must not carry client_secret"),
        ("a secret's expiry", document(["client_secret_expires_at": 0]), "must not carry client_secret_expires_at"),
        ("a confidential method", document(["token_endpoint_auth_method": "client_secret_basic"]), "must be none"),
        ("a JWT method", document(["token_endpoint_auth_method": "private_key_jwt"]), "must be none"),
        ("a javascript: redirect", document(["redirect_uris": ["javascript:alert(1)"]]), "javascript: scheme"),
        ("a fragment", document(["redirect_uris": ["https://assistant.example/cb#x"]]), "fragment"),
        ("no redirect URIs", document(["redirect_uris": []]), "redirect_uris is required"),
        ("an unknown scope", document(["scope": "files:read root"]), "Unknown scope"),
        ("not JSON", Data("<html>hello</html>".utf8), "not a JSON object"),
        ("a JSON array", Data("[1,2]".utf8), "not a JSON object"),
        ("over 5 KB", document(["client_name": String(repeating: "x", count: 5 * 1024)]), "larger than 5120 bytes"),
    ] as [(String, Data, String)])
    func badDocumentsAreRefused(_ name: String, _ bytes: Data, _ phrase: String) {
        switch ClientMetadataDocument.read(bytes, url: Self.url) {
        case .success: Issue.record("\(name) was accepted")
        case .failure(let error):
            #expect(error.code == "invalid_client", "\(name)")
            #expect(error.description.contains(phrase), "\(name): \(error.description)")
        }
    }

    @Test(arguments: [
        (nil, 60), ("max-age=300", 300), ("public, max-age=30", 60), ("max-age=999999", 86_400), ("no-store", 60),
        ("max-age=600, no-cache", 60), ("max-age=\"120\"", 120), ("max-age=junk", 60),
    ] as [(String?, TimeInterval)])
    func documentsAreCachedWithinBounds(_ header: String?, _ seconds: TimeInterval) {
        #expect(ClientMetadataDocument.cacheLifetime(cacheControl: header) == seconds)
    }
}
