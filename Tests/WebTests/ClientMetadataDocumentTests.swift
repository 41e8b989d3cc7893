import Foundation
import GatehouseTestSupport
import HummingbirdTesting
import NIOCore
import OAuthCore
import Storage
import Testing
@testable import Web

/// SPEC §6: outbound fetches reach public internet addresses only, checked after DNS resolution.
@Suite struct GlobalAddressTests {
    @Test(arguments: [
        "127.0.0.1", "127.255.0.1", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.1", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
        "192.0.2.10", "198.18.0.1", "::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:8.8.8.8", "fc00::1", "fd12:3456::1",
        "fe80::1", "ff02::1", "2001:db8::1", "64:ff9b::a00:1", "2002:0a00:0001::1", "2001:0:4136:e378::1", "[::1]",
    ])
    func privateAndSpecialAddressesAreRefused(_ address: String) throws {
        let bytes = try #require(GlobalAddress.bytes(of: address))
        #expect(!GlobalAddress.isGlobal(bytes))
    }

    @Test(arguments: ["8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1", "93.184.216.34", "2606:4700::1111",
                      "2a00:1450:4001::200e", "2002:0808:0808::1", "[2606:4700::1111]"])
    func publicAddressesAreAllowed(_ address: String) throws {
        let bytes = try #require(GlobalAddress.bytes(of: address))
        #expect(GlobalAddress.isGlobal(bytes))
    }

    @Test func namesAreNotAddresses() {
        #expect(GlobalAddress.bytes(of: "example.com") == nil)
        #expect(GlobalAddress.bytes(of: "127.1") == nil)
    }
}

/// Apps known by a Client ID Metadata Document at authorize (SPEC §6). The fetches that succeed are
/// tested with a real HTTPS server in Tests/Interop/test_client_metadata_documents.py.
@Suite struct ClientMetadataDocumentAuthorizeTests {
    static func authorize(_ client: any TestClientProtocol, _ clientID: String) async throws -> TestResponse {
        let pkce = PKCEPair.make()
        return try await client.execute(uri: authorizePath([
            "response_type": "code", "client_id": clientID, "redirect_uri": "http://127.0.0.1/cb", "scope": "files:read",
            "state": "s", "code_challenge": pkce.challenge, "code_challenge_method": "S256",
        ]), method: .get)
    }

    /// Documents on private, loopback and link-local addresses are refused before any connection
    /// (names after resolving them), with the authorize error page; no app row is written.
    @Test(arguments: TestDatabaseKind.available)
    func documentsOnPrivateAddressesAreRefused(_ kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            let discovery = try await client.execute(uri: "/.well-known/openid-configuration", method: .get).json()
            #expect(discovery["client_id_metadata_document_supported"] as? Bool == true)
            for url in ["https://127.0.0.1:9/app.json", "https://10.0.0.1/app.json", "https://169.254.169.254/latest/meta-data",
                        "https://[::1]:9/app.json", "https://localhost:9/app.json", "https://[::ffff:10.0.0.1]/app.json",
                        "https://100.64.1.1/app.json"] {
                let response = try await Self.authorize(client, url)
                #expect(response.status == .badRequest, "\(url)")
                #expect(response.text.contains("not a public internet address"), "\(url): \(response.text.prefix(2000))")
                #expect(!response.headers.contains(.location))
            }
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
    }

    @Test func documentsCanBeTurnedOff() async throws {
        try await withTestApp(extra: ["GATEHOUSE_CLIENT_METADATA_DOCUMENTS": "off"]) { client, scratch in
            let discovery = try await client.execute(uri: "/.well-known/oauth-authorization-server", method: .get).json()
            #expect(discovery["client_id_metadata_document_supported"] == nil)
            let response = try await Self.authorize(client, "https://assistant.example/client.json")
            #expect(response.status == .badRequest)
            #expect(response.text.contains("does not take client metadata documents"))
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
    }

    /// A host name that does not resolve, and a URL that is not a document URL, are refused clearly.
    @Test func unresolvableAndMalformedURLs() async throws {
        try await withTestApp { client, scratch in
            let unresolvable = try await Self.authorize(client, "https://no-such-host.invalid/client.json")
            #expect(unresolvable.status == .badRequest && unresolvable.text.contains("could not be resolved"))
            for url in ["http://assistant.example/client.json", "https://assistant.example/", "https://assistant.example/a/../c"] {
                let response = try await Self.authorize(client, url)
                #expect(response.status == .badRequest && response.text.contains("There is no app with this client_id"), "\(url)")
            }
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
    }
}

/// With documents turned off, an app known by one is not known at the token endpoint either.
@Suite struct ClientMetadataDocumentDoorTests {
    static let url = "https://assistant.example/client.json"

    static func seedDocumentApp(_ scratch: ScratchDatabase) async throws {
        try await scratch.inspect { database in
            let now = Date()
            var client = RegisteredClient(
                clientID: ClientID(rawValue: url), settings: .empty, logoFormat: .svg, logoVersion: "v", enabled: true, secretHash: "",
                createdOn: now, createdBy: "", modifiedOn: now, modifiedBy: url, registrar: .document, documentAppID: ClientID.generate().rawValue
            )
            client.name = "Assistant"
            client.redirectURIs = ["http://127.0.0.1/cb"]
            client.scopes = ["files:read"]
            client.allowPKCE = true
            try await SQLClientStore(database: database).create(client, logo: Icon.letter(for: "Assistant"), limits: .init(perPortal: 10, perPerson: 10))
        }
    }

    static func exchange(_ client: any TestClientProtocol) async throws -> TestResponse {
        try await client.execute(uri: "/oauth2/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                 body: ByteBuffer(string: "grant_type=authorization_code&code=nothing&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb"
                                     + "&code_verifier=\(String(repeating: "v", count: 43))&client_id=" + url.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
    }

    @Test func onTheAppIsKnownOffItIsNot() async throws {
        try await withTestApp { client, scratch in
            try await Self.seedDocumentApp(scratch)
            let known = try await Self.exchange(client)
            #expect(known.status == .badRequest)
            #expect(try known.json()["error"] as? String == "invalid_grant")
        }
        try await withTestApp(extra: ["GATEHOUSE_CLIENT_METADATA_DOCUMENTS": "off"]) { client, scratch in
            try await Self.seedDocumentApp(scratch)
            let unknown = try await Self.exchange(client)
            #expect(unknown.status == .unauthorized)
            #expect(try unknown.json()["error"] as? String == "invalid_client")
        }
    }
}
