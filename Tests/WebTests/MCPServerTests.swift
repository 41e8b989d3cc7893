import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OAuthCore
import PortalCore
import Testing

/// The MCP server at `/mcp` (SPEC §6) through the real router: tokens issued for it alone, the nine
/// tools with their scopes, the person's role, tool errors, and people calling at once with the same ids.
@Suite struct MCPServerTests {
    static let mcpResource = "http://127.0.0.1:8080/mcp"
    static let everyScope = ["accounts.self:read", "accounts:read", "files:write", "rooms:write", "openid"]

    /// An access token for `/mcp` (RFC 8707), for the person `browser` signs in as.
    static func mcpToken(_ client: any TestClientProtocol, browser: inout Browser, app: TestApp, scope: String,
                         resources: [String] = [mcpResource]) async throws -> String {
        let pkce = PKCEPair.make()
        let code = try await browser.code(client, app: app, pkce: pkce, scope: scope, resources: resources)
        let response = try await exchange(client, app: app, code: code, pkce: pkce)
        #expect(response.status == .ok, "\(response.text)")
        return try #require(try response.json()["access_token"] as? String)
    }

    /// One JSON-RPC message to `/mcp`.
    static func rpc(_ client: any TestClientProtocol, token: String?, _ method: String, id: Int = 1, params: [String: Any] = [:])
        async throws -> TestResponse
    {
        var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
        headers[HTTPField.Name("MCP-Protocol-Version")!] = "2025-11-25"
        if let token { headers[.authorization] = "Bearer \(token)" }
        let body = try jsonBody(["jsonrpc": "2.0", "id": id, "method": method, "params": params])
        return try await client.execute(uri: "/mcp", method: .post, headers: headers, body: body)
    }

    /// `tools/call`: the result object.
    static func call(_ client: any TestClientProtocol, token: String, _ tool: String, _ arguments: [String: Any] = [:], id: Int = 7)
        async throws -> (isError: Bool, text: String)
    {
        let response = try await rpc(client, token: token, "tools/call", id: id, params: ["name": tool, "arguments": arguments])
        #expect(response.status == .ok, "\(tool): \(response.status) \(response.text)")
        let result = try #require(try response.json()["result"] as? [String: Any], "\(response.text)")
        let content = try #require(result["content"] as? [[String: Any]])
        return (result["isError"] as? Bool ?? false, content.compactMap { $0["text"] as? String }.joined())
    }

    /// The error authorize sends the browser back with when `resource` is asked for (signed in already).
    static func authorizeError(_ client: any TestClientProtocol, browser: inout Browser, app: TestApp, resource: String) async throws -> String? {
        let answer = try await browser.get(client, authorizePath([
            "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid",
            "code_challenge": PKCEPair.make().challenge, "code_challenge_method": "S256",
        ]) + "&resource=" + AuthorizationChecks.formEscape(resource))
        return queryItems(answer.headers[.location] ?? "")["error"]
    }

    /// A tool's JSON answer, as an object.
    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    /// The id of what a tool answered (`current.id` for a folder listing).
    static func id(_ text: String, listing: Bool = false) throws -> Int {
        let answer = try object(text)
        return try #require((listing ? answer["current"] as? [String: Any] : answer)?["id"] as? Int, "\(text)")
    }

    /// From initialize to every tool, with a token issued for /mcp: the bytes of a text file round-trip.
    @Test(arguments: TestDatabaseKind.available)
    func initializeListAndCallEveryTool(_ kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            let app = try await registerApp(client, scopes: Self.everyScope)
            var browser = Browser()
            let token = try await Self.mcpToken(client, browser: &browser, app: app, scope: Self.everyScope.joined(separator: " "))
            let initialized = try await Self.rpc(client, token: token, "initialize", params: [
                "protocolVersion": "2025-11-25", "capabilities": [String: Any](), "clientInfo": ["name": "test", "version": "1"],
            ])
            #expect(initialized.status == .ok)
            let info = try #require(try initialized.json()["result"] as? [String: Any])
            #expect((info["serverInfo"] as? [String: Any])?["name"] as? String == "Gatehouse")
            #expect(try await Self.rpc(client, token: token, "ping").status == .ok)
            let listed = try #require(try await Self.rpc(client, token: token, "tools/list").json()["result"] as? [String: Any])
            let names = (listed["tools"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["whoami", "list_folder", "read_file", "create_folder", "upload_text_file", "list_rooms", "create_room",
                              "share_room", "list_people"])

            let me = try await Self.call(client, token: token, "whoami")
            #expect(!me.isError && me.text.contains(ownerEmail))
            let home = try await Self.call(client, token: token, "list_folder")
            let folderID = try Self.id(home.text, listing: true)
            let made = try await Self.call(client, token: token, "create_folder", ["parentId": folderID, "title": "From an assistant"])
            #expect(!made.isError && made.text.contains("From an assistant"))
            let text = "Meeting notes — ünïcode\nline two\n"
            let uploaded = try await Self.call(client, token: token, "upload_text_file", ["folderId": folderID, "title": "notes.txt", "content": text])
            #expect(!uploaded.isError, "\(uploaded.text)")
            let fileID = try Self.id(uploaded.text)
            #expect(try await Self.call(client, token: token, "read_file", ["fileId": fileID]).text == text)
            #expect(try await Self.call(client, token: token, "list_folder", ["folderId": folderID]).text.contains("notes.txt"))
            let room = try await Self.call(client, token: token, "create_room", ["title": "Assistant room", "roomType": "collaboration"])
            #expect(!room.isError)
            let roomID = try Self.id(room.text)
            #expect(try await Self.call(client, token: token, "list_rooms").text.contains("Assistant room"))
            let bob = try await addPerson(scratch, email: "bob@example.com", role: .user)
            let shared = try await Self.call(client, token: token, "share_room", [
                "roomId": roomID, "invitations": [["id": bob.id.rawValue, "access": "Editor"]],
            ])
            #expect(!shared.isError && shared.text.contains("1 person"), "\(shared.text)")
            #expect(try await Self.call(client, token: token, "list_people", ["filter": "bob"]).text.contains("bob@example.com"))
        }
    }

    /// Tokens are for one resource: /mcp refuses the API's, the API refuses /mcp's, and neither takes
    /// a session, a portal token or an API key; every refusal names /mcp's metadata.
    @Test func onlyTokensIssuedForTheMCPServerGetIn() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client, scopes: Self.everyScope)
            var browser = Browser()
            let mcp = try await Self.mcpToken(client, browser: &browser, app: app, scope: "files:write accounts.self:read")
            let apiToken = try await Self.mcpToken(client, browser: &browser, app: app, scope: "files:write accounts.self:read", resources: [])
            let challenge = "resource_metadata=\"http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp\""
            for token in [nil, apiToken, "junk.junk.junk", try await portalToken(client)] as [String?] {
                let refused = try await Self.rpc(client, token: token, "tools/list")
                #expect(refused.status == .unauthorized)
                #expect(refused.headers[.wwwAuthenticate]?.contains(challenge) == true)
            }
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: mcp).status == .unauthorized)
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: apiToken).status == .ok)
            let metadata = try await client.execute(uri: "/.well-known/oauth-protected-resource/mcp", method: .get).json()
            #expect(metadata["resource"] as? String == Self.mcpResource)
            #expect(metadata["authorization_servers"] as? [String] == ["http://127.0.0.1:8080"])
            // An unknown resource at authorize is invalid_target.
            #expect(try await Self.authorizeError(client, browser: &browser, app: app, resource: "http://127.0.0.1:8080/elsewhere") == "invalid_target")
        }
    }

    /// A missing scope is HTTP 403 naming the least scope (read for reading tools, write for writing
    /// ones) before anything runs; after a new consent for it the same call works.
    @Test func aMissingScopeIsA403ThatNamesItAndStepUpWorks() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client, scopes: Self.everyScope)
            var browser = Browser()
            let reader = try await Self.mcpToken(client, browser: &browser, app: app, scope: "files:read")
            let home = try await Self.call(client, token: reader, "list_folder")
            let folderID = try Self.id(home.text, listing: true)
            let arguments: [String: Any] = ["folderId": folderID, "title": "step.txt", "content": "up"]
            let refused = try await Self.rpc(client, token: reader, "tools/call", params: ["name": "upload_text_file", "arguments": arguments])
            #expect(refused.status == .forbidden)
            #expect(refused.headers[.wwwAuthenticate]?.contains("error=\"insufficient_scope\", scope=\"files:write\"") == true)
            let people = try await Self.rpc(client, token: reader, "tools/call", params: ["name": "whoami"])
            #expect(people.headers[.wwwAuthenticate]?.contains("scope=\"accounts.self:read\"") == true)
            #expect(try await rowCount("files", in: scratch) == 0)
            let writer = try await Self.mcpToken(client, browser: &browser, app: app, scope: "files:write")
            #expect(try await Self.call(client, token: writer, "upload_text_file", arguments).isError == false)
            #expect(try await rowCount("files", in: scratch) == 1)
        }
    }

    /// Wrong argument types and the person's role answer tool errors, and write nothing.
    @Test func badArgumentsAndRolesAreToolErrors() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client, scopes: Self.everyScope)
            _ = try await addPerson(scratch, email: "guest@example.com", role: .guest)
            var owner = Browser()
            let token = try await Self.mcpToken(client, browser: &owner, app: app, scope: "files:write rooms:write accounts:read")
            let cases: [(String, [String: Any], String)] = [
                ("create_folder", ["parentId": "12", "title": "x"], "parentId must be an integer"),
                ("create_folder", ["title": "x"], "parentId is required"),
                ("upload_text_file", ["folderId": 1, "title": 5, "content": "x"], "title must be a string"),
                ("read_file", ["fileId": 999_999], "Not found"),
                ("share_room", ["roomId": 1, "invitations": "everyone"], "invitations must be an array"),
                ("create_room", ["title": "Odd", "roomType": "cave"], "roomType"),
            ]
            for (tool, arguments, message) in cases {
                let result = try await Self.call(client, token: token, tool, arguments)
                #expect(result.isError, "\(tool) \(arguments)")
                #expect(result.text.contains(message), "\(tool): \(result.text)")
            }
            #expect(try await rowCount("files", in: scratch) == 0)
            var guest = Browser()
            _ = try await guest.signIn(client, email: "guest@example.com", password: "person-password-1")
            let guestToken = try await Self.mcpToken(client, browser: &guest, app: app, scope: "rooms:write accounts:read")
            let room = try await Self.call(client, token: guestToken, "create_room", ["title": "Guest room"])
            #expect(room.isError && room.text.contains("Guests cannot create rooms"))
            #expect(try await Self.call(client, token: guestToken, "list_people").isError)
        }
    }

    /// An app for every scope, and /mcp tokens for the owner and for Bob (a user added here) with the scopes given.
    static func ownerAndBob(_ client: any TestClientProtocol, _ scratch: ScratchDatabase, ownerScope: String, bobScope: String)
        async throws -> (owner: String, bob: String)
    {
        let app = try await registerApp(client, scopes: everyScope)
        _ = try await addPerson(scratch, email: "bob@example.com", role: .user)
        var owner = Browser()
        let ownerToken = try await mcpToken(client, browser: &owner, app: app, scope: ownerScope)
        var bob = Browser()
        _ = try await bob.signIn(client, email: "bob@example.com", password: "person-password-1")
        return (ownerToken, try await mcpToken(client, browser: &bob, app: app, scope: bobScope))
    }

    /// Two people calling at once with the same JSON-RPC ids each get their own answers.
    @Test func twoPeopleWithTheSameIDsGetTheirOwnAnswers() async throws {
        try await withTestApp { client, scratch in
            let (ownerToken, bobToken) = try await Self.ownerAndBob(client, scratch, ownerScope: "accounts.self:read", bobScope: "accounts.self:read")
            let answers = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for round in 0..<20 {
                    for (who, token) in [("owner", ownerToken), ("bob", bobToken)] {
                        group.addTask { (who, try await Self.call(client, token: token, "whoami", id: 1 + round % 2).text) }
                    }
                }
                return try await group.reduce(into: [(String, String)]()) { $0.append($1) }
            }
            #expect(answers.count == 40)
            for (who, text) in answers {
                #expect(text.contains(who == "owner" ? ownerEmail : "bob@example.com"), "\(who) got \(text)")
            }
        }
    }

    /// GATEHOUSE_MCP=off: no server, no metadata, and no token can be asked for it.
    @Test func theOperatorCanTurnItOff() async throws {
        try await withTestApp(extra: ["GATEHOUSE_MCP": "off"]) { client, _ in
            #expect(try await Self.rpc(client, token: nil, "tools/list").status == .notFound)
            #expect(try await client.execute(uri: "/.well-known/oauth-protected-resource/mcp", method: .get).status == .notFound)
            let app = try await registerApp(client, scopes: Self.everyScope)
            var browser = Browser()
            _ = try await browser.signIn(client)
            #expect(try await Self.authorizeError(client, browser: &browser, app: app, resource: Self.mcpResource) == "invalid_target")
        }
    }

    /// Messages readers could read differently (repeated members, odd ids, a request that is also a
    /// response) are refused before anything runs; a tool the token lacks the scope for never runs,
    /// whichever copy of a repeated name a reader would take.
    @Test func ambiguousMessagesAreRefusedAndNoToolRunsWithoutItsScope() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client, scopes: Self.everyScope)
            var browser = Browser()
            let token = try await Self.mcpToken(client, browser: &browser, app: app, scope: "accounts.self:read")
            let home = #"{"folderId":1,"title":"x.txt","content":"x"}"#
            let bodies = [
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"upload_text_file","arguments":\#(home)},"params":{"name":"whoami"}}"#,
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"upload_text_file","name":"whoami","arguments":\#(home)}}"#,
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"upload_text_file","arguments":\#(home)}}"#,
                #"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"upload_text_file","arguments":\#(home)}}"#,
                #"{"jsonrpc":"2.0","id":"a","id":2,"method":"ping"}"#,
                #"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"whoami"}}"#,
                #"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
                #"{"jsonrpc":"2.0","id":1,"method":"ping","result":null}"#,
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"no_such_tool"}}"#,
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"#,
                #"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
                #"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
            ]
            var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json", .authorization: "Bearer \(token)"]
            headers[HTTPField.Name("MCP-Protocol-Version")!] = "2025-11-25"
            for body in bodies {
                let response = try await client.execute(uri: "/mcp", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == .badRequest || response.status == .forbidden, "\(body): \(response.status) \(response.text)")
            }
            #expect(try await rowCount("files", in: scratch) == 0)
        }
    }

    /// Userinfo and introspection answer for a token issued for /mcp too.
    @Test func userinfoAndIntrospectionTakeMCPTokens() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client, scopes: Self.everyScope)
            var browser = Browser()
            let token = try await Self.mcpToken(client, browser: &browser, app: app, scope: "openid accounts.self:read")
            let info = try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(info.status == .ok)
            let answer = try await introspect(client, app: app, token: token)
            #expect(answer["active"] as? Bool == true)
            #expect((answer["aud"] as? String) == Self.mcpResource || (answer["aud"] as? [String]) == [Self.mcpResource])
        }
    }

    /// The tools keep the API's access rules: another person's file and folder are not found, and a
    /// room's viewer cannot write in it.
    @Test func toolsKeepTheAPIsAccessRules() async throws {
        try await withTestApp { client, scratch in
            let (ownerToken, bobToken) = try await Self.ownerAndBob(client, scratch, ownerScope: "files:write rooms:write",
                                                                    bobScope: "files:write accounts.self:read")
            let bobID = try #require(try Self.object(try await Self.call(client, token: bobToken, "whoami").text)["id"] as? String)
            let home = try await Self.call(client, token: ownerToken, "list_folder")
            let folderID = try Self.id(home.text, listing: true)
            let file = try await Self.call(client, token: ownerToken, "upload_text_file", ["folderId": folderID, "title": "private.txt", "content": "mine"])
            let fileID = try Self.id(file.text)
            for (tool, arguments) in [("read_file", ["fileId": fileID]), ("list_folder", ["folderId": folderID]),
                                      ("upload_text_file", ["folderId": folderID, "title": "x.txt", "content": "x"])] as [(String, [String: Any])] {
                let refused = try await Self.call(client, token: bobToken, tool, arguments)
                #expect(refused.isError && refused.text.contains("Not found"), "\(tool): \(refused.text)")
            }
            let room = try await Self.call(client, token: ownerToken, "create_room", ["title": "Shared"])
            let roomID = try Self.id(room.text)
            #expect(try await Self.call(client, token: ownerToken, "share_room", ["roomId": roomID, "invitations": [["id": bobID, "access": "Viewer"]]]).isError == false)
            let viewer = try await Self.call(client, token: bobToken, "upload_text_file", ["folderId": roomID, "title": "v.txt", "content": "v"])
            #expect(viewer.isError, "\(viewer.text)")
            #expect(try await rowCount("files", in: scratch) == 1)
        }
    }
}
