import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What describing the API in its OpenAPI document, and holding the server to it with schemathesis
/// (`Tests/Interop/test_openapi_contract.py`), found in the server, each as a test.
@Suite struct ContractFindingsTests {
    /// A range outside the file was answered 416 with `Content-Type: application/json` and an empty
    /// body, which is no JSON at all. RFC 9110 §15.5.17: the answer names the length in
    /// `Content-Range`; its body is the portal API's error envelope (SPEC §4), never file bytes.
    @Test func anUnsatisfiableRangeIsAnsweredWithTheEnvelope() async throws {
        try await withTestApp { client, _ in
            let token = try await portalToken(client)
            let my = try await PortalAPITests.myDocuments(client, token: token)
            let file = try await PortalAPITests.upload(client, token: token, folder: my, name: "five.txt", bytes: Array("hello".utf8))
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .range: "bytes=5-"]
            let response = try await client.execute(uri: "/api/2.0/files/file/\(file)/content", method: .get, headers: headers)
            #expect(response.status == .rangeNotSatisfiable)
            #expect(response.headers[.contentRange] == "bytes */5")
            #expect(response.headers[.contentType] == "application/json")
            let body = try response.json()
            #expect(body["status"] as? Int == 1)
            #expect(body["statusCode"] as? Int == 416)
            #expect((body["error"] as? [String: Any])?["message"] as? String != nil)
        }
    }

    /// The share route took at most 1000 invitations, but read its body with the 64 KB limit of other
    /// JSON bodies, so a list of about 900 (some 70 bytes each) was already refused as too large: the
    /// documented maximum could not be reached. It is now, and one more is a 400.
    @Test func aRoomTakesAsManyInvitationsAsItSays() async throws {
        try await withTestApp { client, scratch in
            let person = try await addPerson(scratch, email: "member@example.com", role: .user)
            let token = try await portalToken(client)
            let room = try await PortalAPITests.createRoom(client, token: token, title: "Crowded")
            func share(_ count: Int) async throws -> TestResponse {
                let invitations = Array(repeating: ["id": person.id.rawValue, "access": "RoomAdmin"], count: count)
                return try await api(client, .put, "/api/2.0/files/rooms/\(room)/share", token: token, json: ["invitations": invitations])
            }
            #expect(try await share(1000).status == .ok)
            #expect(try await share(1001).status == .badRequest)
        }
    }

    /// The clients API refused an OAuth access token, or a broken one, with an RFC 6749 error object,
    /// where SPEC §2 says its errors are `application/problem+json` (RFC 9457). The RFC 6750 §3
    /// challenge stays in `WWW-Authenticate`.
    @Test func theClientsAPIRefusesAccessTokensWithAProblem() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let token = try #require(try await browser.tokens(client, app: app, scope: "files:read")["access_token"] as? String)
            for path in ["/api/2.0/clients", "/api/2.0/scopes", "/api/2.0/clients/\(app.clientID)/public/info"] {
                let refused = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(refused.status == .forbidden, "\(path)")
                #expect(refused.headers[.contentType] == "application/problem+json", "\(path)")
                #expect(refused.headers[.wwwAuthenticate]?.contains("error=\"insufficient_scope\"") == true, "\(path)")
                #expect(try refused.json()["status"] as? Int == 403, "\(path)")
                let forged = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer a.b.c"])
                #expect(forged.status == .unauthorized, "\(path)")
                #expect(forged.headers[.contentType] == "application/problem+json", "\(path)")
                #expect(forged.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true, "\(path)")
            }
        }
    }
}

/// Names with control characters or line breaks are refused on every route that takes a name (found
/// by the contract work: PUT refused only line breaks, POST refused none), and nothing is written.
@Suite struct PersonNameRulesTests {
    @Test(arguments: ["Ann\u{0}", "Ann\nLee", "Ann\u{1B}[31m"])
    func aNameWithControlCharactersIsRefusedEverywhere(name: String) async throws {
        try await withTestApp { client, scratch in
            let token = try await portalToken(client)
            let before = try await api(client, .get, "/api/2.0/people/@self", token: token).json()
            let changed = try await api(client, .put, "/api/2.0/people/@self", token: token, json: ["firstName": name])
            #expect(changed.status == .badRequest)
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: token).json()["response"] as? NSDictionary
                    == before["response"] as? NSDictionary, "nothing changed")
            let people = try await rowCount("people", in: scratch)
            let added = try await api(client, .post, "/api/2.0/people", token: token, json: [
                "email": "ann@example.com", "password": "ann-password-1", "firstName": "Ann", "lastName": name,
            ])
            #expect(added.status == .badRequest)
            #expect(try await rowCount("people", in: scratch) == people, "nobody added")
        }
    }
}
