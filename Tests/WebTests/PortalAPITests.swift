import Crypto
import Foundation
@testable import GatehouseApp
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OAuthCore
import PortalCore
import Storage
import Testing
import Web

/// The portal API of SPEC §4: scopes × routes, roles, isolation, files, rooms, CORS, bearer attacks.
@Suite struct PortalAPITests {
    static let apiScopes = ["accounts.self:read", "accounts.self:write", "accounts:read", "accounts:write",
                            "files:read", "files:write", "rooms:read", "rooms:write"]

    /// A route of the table: what it needs, and how to call it so that an allowed call never destroys anything.
    struct Route: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let body: [String: any Sendable]?
        let needs: [String]
        var description: String { "\(method) \(path)" }
    }

    static func routes(my: Int64, file: Int64, room: Int64, person: String) -> [Route] {
        let unknownPerson = UUID().uuidString.lowercased()
        func r(_ method: HTTPRequest.Method, _ path: String, _ needs: [String], _ body: [String: any Sendable]? = nil) -> Route {
            Route(method: method, path: path, body: body, needs: needs)
        }
        return [
            r(.get, "/api/2.0/people/@self", ["accounts.self:read", "accounts.self:write"]),
            r(.put, "/api/2.0/people/@self", ["accounts.self:write"], ["firstName": "Portal"]),
            r(.get, "/api/2.0/people", ["accounts:read", "accounts:write"]),
            r(.get, "/api/2.0/people/\(person)", ["accounts:read", "accounts:write"]),
            r(.put, "/api/2.0/people/\(person)", ["accounts:write"], ["firstName": "Renamed"]),
            r(.post, "/api/2.0/people", ["accounts:write"], ["email": "n-\(UUID().uuidString.prefix(8))@example.com", "password": "x"]),
            r(.delete, "/api/2.0/people/\(unknownPerson)", ["accounts:write"]),
            r(.get, "/api/2.0/files/@my", ["files:read", "files:write"]),
            r(.get, "/api/2.0/files/\(my)", ["files:read", "files:write"]),
            r(.post, "/api/2.0/files/folder/\(my)", ["files:write"], ["title": "Made by the table"]),
            r(.put, "/api/2.0/files/folder/999999", ["files:write"], ["title": "x"]),
            r(.delete, "/api/2.0/files/folder/999999", ["files:write"]),
            r(.post, "/api/2.0/files/999999/upload", ["files:write"]),
            r(.get, "/api/2.0/files/file/\(file)", ["files:read", "files:write"]),
            r(.get, "/api/2.0/files/file/\(file)/content", ["files:read", "files:write"]),
            r(.put, "/api/2.0/files/file/999999", ["files:write"], ["title": "x"]),
            r(.delete, "/api/2.0/files/file/999999", ["files:write"]),
            r(.get, "/api/2.0/files/rooms", ["rooms:read", "rooms:write"]),
            r(.post, "/api/2.0/files/rooms", ["rooms:write"], ["title": "Table room"]),
            r(.get, "/api/2.0/files/rooms/\(room)", ["rooms:read", "rooms:write"]),
            r(.put, "/api/2.0/files/rooms/999999", ["rooms:write"], ["title": "x"]),
            r(.delete, "/api/2.0/files/rooms/999999", ["rooms:write"]),
            r(.get, "/api/2.0/files/rooms/\(room)/share", ["rooms:read", "rooms:write"]),
            r(.put, "/api/2.0/files/rooms/999999/share", ["rooms:write"], ["invitations": [["id": person, "access": "Viewer"]]]),
            r(.get, "/api/2.0/clients", []),
            r(.get, "/api/2.0/clients/consents", []),
        ]
    }

    /// Every route × every scope: allowed with a listed scope, otherwise 403 `insufficient_scope`.
    @Test func everyRouteAgainstEveryScope() async throws {
        try await withTestApp { client, scratch in
            let user = try await addPerson(scratch, email: "user@example.com", role: .user)
            let app = try await registerApp(client, scopes: ["openid"] + Self.apiScopes)
            let portal = try await portalToken(client)
            let my = try await Self.myDocuments(client, token: portal)
            let file = try await Self.upload(client, token: portal, folder: my, name: "a.txt", bytes: Array("hello".utf8))
            let room = try await Self.createRoom(client, token: portal, title: "Room")
            var browser = Browser()
            for scope in Self.apiScopes {
                let token = try #require(try await browser.tokens(client, app: app, scope: scope)["access_token"] as? String)
                for route in Self.routes(my: my, file: file, room: room, person: user.id.rawValue) {
                    let response = try await Self.call(client, route, token: token)
                    let challenge = response.headers[.wwwAuthenticate] ?? ""
                    if route.needs.contains(scope) {
                        #expect(response.status != .unauthorized && response.status != .forbidden, "\(scope) on \(route): \(response.status)")
                    } else {
                        #expect(response.status == .forbidden, "\(scope) on \(route): \(response.status)")
                        #expect(challenge.contains("error=\"insufficient_scope\""), "\(scope) on \(route)")
                        // RFC 9728 §5.1 and SPEC §6: the scope needed, and where to ask for it.
                        #expect(challenge.contains("resource_metadata=\"\(AuthenticationAPITests.resourceMetadata)\""), "\(scope) on \(route): \(challenge)")
                        #expect(route.needs.isEmpty || challenge.contains("scope=\"\(route.needs[0])\""), "\(scope) on \(route): \(challenge)")
                    }
                }
            }
            // A portal token has the person's full rights and no scope limits.
            for route in Self.routes(my: my, file: file, room: room, person: user.id.rawValue) where !route.needs.isEmpty {
                let response = try await Self.call(client, route, token: portal)
                #expect(response.status != .unauthorized && response.status != .forbidden, "portal token on \(route)")
            }
        }
    }

    /// Person A's token, even with every scope, does not reach B's My documents, files or rooms.
    @Test func isolationBetweenPeople() async throws {
        try await withTestApp { client, scratch in
            try await addPerson(scratch, email: "a@example.com", role: .user)
            let b = try await addPerson(scratch, email: "b@example.com", role: .user)
            let app = try await registerApp(client, scopes: ["openid"] + Self.apiScopes)
            let bToken = try await portalToken(client, email: "b@example.com", password: "person-password-1")
            let bMy = try await Self.myDocuments(client, token: bToken)
            let bFile = try await Self.upload(client, token: bToken, folder: bMy, name: "secret.txt", bytes: Array("B's".utf8))
            let bRoom = try await Self.createRoom(client, token: bToken, title: "B only")
            var browser = Browser()
            _ = try await browser.signIn(client, email: "a@example.com", password: "person-password-1")
            let aToken = try #require(try await browser.tokens(client, app: app, scope: Self.apiScopes.joined(separator: " "))["access_token"] as? String)
            for (method, path) in [
                (HTTPRequest.Method.get, "/api/2.0/files/\(bMy)"), (.get, "/api/2.0/files/file/\(bFile)"),
                (.get, "/api/2.0/files/file/\(bFile)/content"), (.delete, "/api/2.0/files/file/\(bFile)"),
                (.get, "/api/2.0/files/rooms/\(bRoom)"), (.get, "/api/2.0/files/\(bRoom)"), (.delete, "/api/2.0/files/rooms/\(bRoom)"),
                (.get, "/api/2.0/files/rooms/\(bRoom)/share"),
            ] {
                let response = try await api(client, method, path, token: aToken)
                #expect(response.status == .notFound, "\(method) \(path)")
            }
            let upload = try await Self.uploadResponse(client, token: aToken, folder: bMy, name: "x.txt", bytes: [1])
            #expect(upload.status == .notFound)
            let aRooms = try await api(client, .get, "/api/2.0/files/rooms", token: aToken).json()["response"] as? [[String: Any]]
            #expect(aRooms?.isEmpty == true)
            #expect(try await rowCount("files", in: scratch) == 1)

            // Shared as Viewer: A reads the room, and may not write in it.
            let share = try await api(client, .put, "/api/2.0/files/rooms/\(bRoom)/share", token: bToken,
                                      json: ["invitations": [["id": try await Self.personID(client, token: aToken), "access": "Viewer"]]])
            #expect(share.status == .ok)
            #expect(try await api(client, .get, "/api/2.0/files/\(bRoom)", token: aToken).status == .ok)
            #expect(try await Self.uploadResponse(client, token: aToken, folder: bRoom, name: "x.txt", bytes: [1]).status == .forbidden)
            #expect(try await api(client, .post, "/api/2.0/files/folder/\(bRoom)", token: aToken, json: ["title": "no"]).status == .forbidden)
            #expect(try await api(client, .get, "/api/2.0/people/\(b.id.rawValue)", token: aToken).status == .ok)
        }
    }

    /// Roles decide after scopes: guests, users, admins and the owner.
    @Test func rolesAfterScopes() async throws {
        try await withTestApp { client, scratch in
            let guest = try await addPerson(scratch, email: "guest@example.com", role: .guest)
            let admin = try await addPerson(scratch, email: "admin@example.com", role: .admin)
            let user = try await addPerson(scratch, email: "user@example.com", role: .user)
            let owner = try await portalToken(client)
            let guestToken = try await portalToken(client, email: "guest@example.com", password: "person-password-1")
            let adminToken = try await portalToken(client, email: "admin@example.com", password: "person-password-1")
            let userToken = try await portalToken(client, email: "user@example.com", password: "person-password-1")
            let ownerID = try await Self.personID(client, token: owner)
            let before = try await rowCount("people", in: scratch)

            #expect(try await api(client, .get, "/api/2.0/people", token: guestToken).status == .forbidden)
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: guestToken).status == .ok)
            #expect(try await api(client, .post, "/api/2.0/files/rooms", token: guestToken, json: ["title": "x"]).status == .forbidden)
            let newAccount: [String: Any] = ["email": "new@example.com", "password": "new-password-1", "role": "user"]
            #expect(try await api(client, .post, "/api/2.0/people", token: userToken, json: newAccount).status == .forbidden)
            #expect(try await api(client, .post, "/api/2.0/people", token: adminToken, json: newAccount.merging(["role": "admin"]) { $1 }).status == .forbidden)
            #expect(try await api(client, .delete, "/api/2.0/people/\(ownerID)", token: adminToken).status == .forbidden)
            #expect(try await api(client, .delete, "/api/2.0/people/\(ownerID)", token: owner).status == .forbidden)
            #expect(try await api(client, .put, "/api/2.0/people/\(ownerID)", token: adminToken, json: ["firstName": "X"]).status == .forbidden)
            #expect(try await api(client, .put, "/api/2.0/people/@self", token: userToken, json: ["role": "admin"]).status == .forbidden)
            #expect(try await api(client, .delete, "/api/2.0/people/\(user.id.rawValue)", token: userToken).status == .forbidden)
            #expect(try await rowCount("people", in: scratch) == before)

            // Allowed: an admin adds and edits a user; the user edits their own names.
            let made = try await api(client, .post, "/api/2.0/people", token: adminToken, json: newAccount)
            #expect(made.status == .created)
            #expect(try await api(client, .post, "/api/2.0/people", token: adminToken, json: newAccount).status == .conflict)
            let edited = try await api(client, .put, "/api/2.0/people/\(guest.id.rawValue)", token: adminToken, json: ["role": "user", "lastName": "Promoted"])
            #expect((try edited.json()["response"] as? [String: Any])?["role"] as? String == "user")
            let mine = try await api(client, .put, "/api/2.0/people/@self", token: userToken, json: ["displayName": "Me!", "firstName": "U"])
            #expect((try mine.json()["response"] as? [String: Any])?["displayName"] as? String == "Me!")
            _ = admin
        }
    }

    /// The people directory pages with `count`/`startIndex` and filters by text.
    @Test func peopleDirectoryPagesAndFilters() async throws {
        try await withTestApp { client, scratch in
            for index in 0..<5 { try await addPerson(scratch, email: "p\(index)@example.com", role: .user) }
            let token = try await portalToken(client)
            let page = try await api(client, .get, "/api/2.0/people?count=2&startIndex=2", token: token).json()
            #expect((page["response"] as? [[String: Any]])?.count == 2)
            #expect(page["total"] as? Int == 6)
            #expect(page["count"] as? Int == 2)
            #expect(page["status"] as? Int == 0)
            #expect(page["statusCode"] as? Int == 200)
            #expect(Set(page.keys) == ["count", "response", "status", "statusCode", "total"])
            let filtered = try await api(client, .get, "/api/2.0/people?filterValue=p3%40", token: token).json()
            #expect((filtered["response"] as? [[String: Any]])?.map { $0["email"] as? String } == ["p3@example.com"])
            #expect(try await api(client, .get, "/api/2.0/people?count=0", token: token).status == .badRequest)
            #expect(try await api(client, .get, "/api/2.0/people/not-a-uuid", token: token).status == .notFound)
            #expect(try await api(client, .get, "/api/2.0/people/\(UUID().uuidString)", token: token).status == .notFound)
        }
    }

    /// Removing a person ends their sessions, consents and tokens at once.
    @Test func removingAPersonEndsTheirAccess() async throws {
        try await withTestApp { client, scratch in
            let user = try await addPerson(scratch, email: "leaver@example.com", role: .user)
            let app = try await registerApp(client, scopes: ["openid", "files:read"])
            let userPortal = try await portalToken(client, email: "leaver@example.com", password: "person-password-1")
            var browser = Browser()
            _ = try await browser.signIn(client, email: "leaver@example.com", password: "person-password-1")
            let tokens = try await browser.tokens(client, app: app, scope: "openid files:read")
            let access = try #require(tokens["access_token"] as? String)
            _ = try await Self.upload(client, token: userPortal, folder: try await Self.myDocuments(client, token: userPortal), name: "f.txt", bytes: [65])
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: access).status == .ok)
            let owner = try await portalToken(client)
            #expect(try await api(client, .delete, "/api/2.0/people/\(user.id.rawValue)", token: owner).status == .ok)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: access).status == .unauthorized)
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: userPortal).status == .unauthorized)
            #expect(try await introspect(client, app: app, token: access)["active"] as? Bool == false)
            for table in ["sessions", "consents", "grants", "refresh_tokens", "files", "blobs"] {
                let left = try await scratch.inspect { database in
                    try await database.read { sql in
                        try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? -1
                    }
                }
                if table == "sessions" { #expect(left == 2, "the owner's sessions stay") } else { #expect(left == 0, "\(table)") }
            }
            #expect(try await api(client, .delete, "/api/2.0/people/\(user.id.rawValue)", token: owner).status == .notFound)
        }
    }

    /// Folders: create, list, rename, move (never into itself), delete with contents.
    @Test func foldersAndBadTitles() async throws {
        try await withTestApp { client, scratch in
            let token = try await portalToken(client)
            let my = try await Self.myDocuments(client, token: token)
            let outer = try await Self.createFolder(client, token: token, parent: my, title: "Outer")
            let inner = try await Self.createFolder(client, token: token, parent: outer, title: "Inner")
            _ = try await Self.upload(client, token: token, folder: inner, name: "deep.txt", bytes: Array("deep".utf8))
            let listing = try await api(client, .get, "/api/2.0/files/\(outer)", token: token).json()
            let content = try #require(listing["response"] as? [String: Any])
            #expect((content["current"] as? [String: Any])?["title"] as? String == "Outer")
            #expect((content["folders"] as? [[String: Any]])?.map { $0["title"] as? String } == ["Inner"])
            #expect(content["total"] as? Int == 1)

            let folders = try await rowCount("folders", in: scratch)
            for title in ["", String(repeating: "x", count: 171), "a/b", "a\\b", "a:b", "a*b", "a?b", "a\"b", "a<b", "a>b", "a|b"] {
                let response = try await api(client, .post, "/api/2.0/files/folder/\(my)", token: token, json: ["title": title])
                #expect(response.status == .badRequest, "title \(title)")
                #expect((try response.json()["error"] as? [String: Any])?["message"] is String)
            }
            #expect(try await api(client, .post, "/api/2.0/files/folder/\(my)", token: token, json: [:]).status == .badRequest)
            #expect(try await rowCount("folders", in: scratch) == folders)

            // Moving a folder into itself or below itself is refused; a real move works.
            #expect(try await api(client, .put, "/api/2.0/files/folder/\(outer)", token: token, json: ["parentId": outer]).status == .badRequest)
            #expect(try await api(client, .put, "/api/2.0/files/folder/\(outer)", token: token, json: ["parentId": inner]).status == .badRequest)
            let sibling = try await Self.createFolder(client, token: token, parent: my, title: "Sibling")
            let moved = try await api(client, .put, "/api/2.0/files/folder/\(inner)", token: token, json: ["parentId": sibling, "title": "Moved"])
            #expect((try moved.json()["response"] as? [String: Any])?["parentId"] as? Int64 == sibling)
            #expect(try await api(client, .put, "/api/2.0/files/folder/\(my)", token: token, json: ["title": "x"]).status == .forbidden)

            // Non-numeric and unknown ids are 404.
            for path in ["/api/2.0/files/abc", "/api/2.0/files/999999", "/api/2.0/files/-1", "/api/2.0/files/file/abc", "/api/2.0/files/file/424242",
                         "/api/2.0/files/rooms/abc", "/api/2.0/files/rooms/424242"] {
                #expect(try await api(client, .get, path, token: token).status == .notFound, "\(path)")
            }

            // Deleting a folder deletes what is in it, bytes included.
            #expect(try await api(client, .delete, "/api/2.0/files/folder/\(sibling)", token: token).status == .ok)
            #expect(try await rowCount("files", in: scratch) == 0)
            #expect(try await rowCount("blobs", in: scratch) == 0)
        }
    }

    /// The same bytes come back: a 20 MB file, an empty file, and ranges of one.
    @Test(arguments: TestDatabaseKind.available)
    func uploadAndDownloadTheSameBytes(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, _ in
            let token = try await portalToken(client)
            let my = try await Self.myDocuments(client, token: token)
            // 20 MiB: random 64 KiB blocks, each stamped with its index so no two are alike.
            var big = [UInt8]()
            big.reserveCapacity(20 * 1024 * 1024)
            let block = SymmetricKey(size: SymmetricKeySize(bitCount: 64 * 1024 * 8)).withUnsafeBytes { Array($0) }
            for index in 0..<320 {
                big.append(contentsOf: withUnsafeBytes(of: UInt32(index).bigEndian) { Array($0) })
                big.append(contentsOf: block.dropFirst(4))
            }
            for (name, bytes) in [("big.bin", big), ("empty.txt", [UInt8]()), ("Отчёт 1.pdf", Array("%PDF-1.4 tiny".utf8))] {
                let made = try await Self.uploadResponse(client, token: token, folder: my, name: name, bytes: bytes)
                #expect(made.status == .created)
                let info = try #require(made.json()["response"] as? [String: Any])
                #expect(info["sha256"] as? String == SHA256.hash(data: bytes).hexString)
                #expect(info["pureContentLength"] as? Int == bytes.count)
                let id = try #require(info["id"] as? Int64)
                let download = try await api(client, .get, "/api/2.0/files/file/\(id)/content", token: token)
                #expect(download.status == .ok)
                #expect(download.body.getBytes(at: download.body.readerIndex, length: download.body.readableBytes) == bytes)
                #expect(download.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
                #expect(download.headers[.contentType] == info["mimeType"] as? String)
            }
            let pdf = try await api(client, .get, "/api/2.0/files/@my", token: token).json()
            let files = try #require((pdf["response"] as? [String: Any])?["files"] as? [[String: Any]])
            let report = try #require(files.first { $0["title"] as? String == "Отчёт 1.pdf" })
            #expect(report["mimeType"] as? String == "application/pdf")
            let bigID = try #require(files.first { $0["title"] as? String == "big.bin" }?["id"] as? Int64)
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(token)"
            headers[.range] = "bytes=1000-1999"
            let part = try await client.execute(uri: "/api/2.0/files/file/\(bigID)/content", method: .get, headers: headers)
            #expect(part.status == .partialContent)
            #expect(part.headers[.contentRange] == "bytes 1000-1999/\(big.count)")
            #expect(part.body.getBytes(at: part.body.readerIndex, length: part.body.readableBytes) == Array(big[1000...1999]))
            headers[.range] = "bytes=\(big.count)-"
            #expect(try await client.execute(uri: "/api/2.0/files/file/\(bigID)/content", method: .get, headers: headers).status == .rangeNotSatisfiable)
        }
    }

    /// Refused uploads leave neither a file row nor a blob.
    @Test func refusedUploadsLeaveNothing() async throws {
        try await withTestApp(extra: ["GATEHOUSE_MAX_UPLOAD_BYTES": "1000"]) { client, scratch in
            let token = try await portalToken(client)
            let my = try await Self.myDocuments(client, token: token)
            let over = try await Self.uploadResponse(client, token: token, folder: my, name: "big.bin", bytes: [UInt8](repeating: 7, count: 1001))
            #expect(over.status == .contentTooLarge)
            let far = try await Self.uploadResponse(client, token: token, folder: my, name: "huge.bin", bytes: [UInt8](repeating: 7, count: 200_000))
            #expect(far.status == .contentTooLarge)
            // A multipart body without a file, and a file with a bad name.
            let noFile = try await client.execute(uri: "/api/2.0/files/\(my)/upload", method: .post, headers: Self.multipartHeaders(token),
                                                  body: ByteBuffer(string: "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--XyZ--\r\n"))
            #expect(noFile.status == .badRequest)
            let badName = try await Self.uploadResponse(client, token: token, folder: my, name: "a:b.txt", bytes: [1])
            #expect(badName.status == .badRequest)
            let notMultipart = try await api(client, .post, "/api/2.0/files/\(my)/upload", token: token, json: ["file": "x"])
            #expect(notMultipart.status == .unsupportedMediaType)
            // A form of more than 16 parts (a file among them), however small, and a part whose headers
            // pass 8 KiB are refused before their parts are read.
            let file = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\nx\r\n"
            let field = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n"
            func form(parts: Int) -> ByteBuffer { ByteBuffer(string: file + String(repeating: field, count: parts - 1) + "--XyZ--\r\n") }
            for parts in [17, 1_000] {
                let response = try await client.execute(uri: "/api/2.0/files/\(my)/upload", method: .post, headers: Self.multipartHeaders(token),
                                                        body: form(parts: parts))
                #expect(response.status == .badRequest && String(buffer: response.body).contains("more than 16 parts"), "\(parts) parts")
            }
            let longHeaders = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nX-Pad: \(String(repeating: "p", count: 8192))\r\n\r\nx\r\n--XyZ--\r\n"
            let tooLong = try await client.execute(uri: "/api/2.0/files/\(my)/upload", method: .post, headers: Self.multipartHeaders(token),
                                                   body: ByteBuffer(string: longHeaders))
            #expect(tooLong.status == .badRequest && String(buffer: tooLong.body).contains("bytes of headers"))
            #expect(try await rowCount("files", in: scratch) == 0)
            #expect(try await rowCount("blobs", in: scratch) == 0)
            #expect(try await Self.uploadResponse(client, token: token, folder: my, name: "ok.bin", bytes: [UInt8](repeating: 7, count: 1000)).status == .created)
            let sixteen = try await client.execute(uri: "/api/2.0/files/\(my)/upload", method: .post, headers: Self.multipartHeaders(token),
                                                   body: form(parts: 16))
            #expect(sixteen.status == .created, "16 parts are a form")
        }
    }

    /// Rooms: types, members by access level, and bad invitations refused with nothing written.
    @Test func roomsAndMembers() async throws {
        try await withTestApp { client, scratch in
            let member = try await addPerson(scratch, email: "member@example.com", role: .user)
            let token = try await portalToken(client)
            let memberToken = try await portalToken(client, email: "member@example.com", password: "person-password-1")
            let made = try await api(client, .post, "/api/2.0/files/rooms", token: token, json: ["title": "Project", "roomType": "collaboration"])
            #expect(made.status == .created)
            let room = try #require((made.json()["response"] as? [String: Any])?["id"] as? Int64)
            #expect(try await api(client, .post, "/api/2.0/files/rooms", token: token, json: ["title": "X", "roomType": "secret"]).status == .badRequest)
            let defaulted = try await api(client, .post, "/api/2.0/files/rooms", token: token, json: ["title": "Plain"]).json()
            #expect((defaulted["response"] as? [String: Any])?["roomType"] as? String == "custom")

            #expect(try await api(client, .get, "/api/2.0/files/rooms/\(room)", token: memberToken).status == .notFound)
            let members = try await rowCount("room_members", in: scratch)
            for invitation in [["id": UUID().uuidString, "access": "Editor"], ["id": "not-an-id", "access": "Editor"],
                               ["id": member.id.rawValue, "access": "Owner"], ["id": member.id.rawValue, "access": "editor"]] {
                let response = try await api(client, .put, "/api/2.0/files/rooms/\(room)/share", token: token,
                                             json: ["invitations": [["id": member.id.rawValue, "access": "Viewer"], invitation]])
                #expect(response.status == .badRequest, "\(invitation)")
            }
            #expect(try await rowCount("room_members", in: scratch) == members)

            let shared = try await api(client, .put, "/api/2.0/files/rooms/\(room)/share", token: token,
                                       json: ["invitations": [["id": member.id.rawValue, "access": "Editor"]]])
            let list = try #require(shared.json()["response"] as? [[String: Any]])
            #expect(list.contains { ($0["sharedTo"] as? [String: Any])?["id"] as? String == member.id.rawValue && $0["access"] as? String == "Editor" })
            // An editor writes in the room but does not manage it.
            #expect(try await Self.uploadResponse(client, token: memberToken, folder: room, name: "e.txt", bytes: [1]).status == .created)
            #expect(try await api(client, .put, "/api/2.0/files/rooms/\(room)", token: memberToken, json: ["title": "Mine"]).status == .forbidden)
            #expect(try await api(client, .delete, "/api/2.0/files/rooms/\(room)", token: memberToken).status == .forbidden)
            let rooms = try await api(client, .get, "/api/2.0/files/rooms", token: memberToken).json()["response"] as? [[String: Any]]
            #expect(rooms?.map { $0["id"] as? Int64 } == [room])
            let renamed = try await api(client, .put, "/api/2.0/files/rooms/\(room)", token: token, json: ["title": "Renamed", "roomType": "public"])
            #expect((try renamed.json()["response"] as? [String: Any])?["roomType"] as? String == "public")
            #expect(try await api(client, .delete, "/api/2.0/files/rooms/\(room)", token: token).status == .ok)
            #expect(try await rowCount("files", in: scratch) == 0)
            #expect(try await rowCount("blobs", in: scratch) == 0)
        }
    }

    /// RFC 9068 / RFC 6750: forged, unsigned, expired and foreign-audience tokens are 401 `invalid_token`.
    @Test func forgedAndStaleTokensAreRefused() async throws {
        let clock = FixedTime(Date())
        try await withTestApp(clock: clock) { client, scratch in
            let app = try await registerApp(client, scopes: ["openid", "files:read"])
            var browser = Browser()
            let real = try #require(try await browser.tokens(client, app: app, scope: "openid files:read")["access_token"] as? String)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: real).status == .ok)
            let parts = real.split(separator: ".").map(String.init)
            let header = try #require(Base64URL.decode(parts[0]))
            let payload = try #require(Base64URL.decode(parts[1]))
            var claims = try JSONDecoder().decode(AccessTokenClaims.self, from: payload)

            let stranger = try SigningKey.generate(.es256)
            let headerJSON = try #require(try JSONSerialization.jsonObject(with: header) as? [String: String])
            let otherKey = try JWT.sign(claims, key: stranger, type: "at+jwt")
            let sameKidOtherKey = try Self.resign(claims, key: stranger, header: headerJSON)
            let none = Base64URL.encode(Array(#"{"alg":"none","typ":"at+jwt"}"#.utf8)) + "." + parts[1] + "."

            let configuration = try testConfiguration(scratch)
            let secret = try SecretKeyFile.load(configuration: configuration)
            let ourKey = try await scratch.inspect { database in
                let ring = KeyRing(store: SQLSigningKeyStore(database: database), secretKey: secret.key, clock: clock)
                try await ring.reload()
                return try #require(ring.active?.accessToken)
            }
            claims.aud = "https://elsewhere.example.com"
            let foreignAudience = try JWT.sign(claims, key: ourKey, type: "at+jwt")
            claims.aud = Audience([configuration.publicURL.absoluteString])
            claims.iss = "https://elsewhere.example.com"
            let foreignIssuer = try JWT.sign(claims, key: ourKey, type: "at+jwt")

            for (name, token) in [("another key", otherKey), ("another key with our kid", sameKidOtherKey), ("alg none", none),
                                  ("another audience", foreignAudience), ("another issuer", foreignIssuer), ("garbage", "a.b.c"),
                                  ("two parts", parts[0] + "." + parts[1]), ("four parts", real + ".x"), ("dots only", "..")] {
                let response = try await api(client, .get, "/api/2.0/files/@my", token: token)
                #expect(response.status == .unauthorized, "\(name)")
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"gatehouse\", error=\"invalid_token\", resource_metadata=\"\(AuthenticationAPITests.resourceMetadata)\"", "\(name)")
            }
            clock.advance(by: 3600 + 61)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: real).status == .unauthorized)
        }
    }

    /// CORS: only the token's app's origins on answers; preflights for any enabled app's origins.
    @Test func corsFollowsTheTokensApp() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client, scopes: ["openid", "files:read"], origins: ["https://app.example.com"])
            let other = try await registerApp(client, redirectURIs: ["https://other.example.com/cb"], scopes: ["openid"],
                                              origins: ["https://other.example.com"])
            var browser = Browser()
            let token = try #require(try await browser.tokens(client, app: app, scope: "files:read")["access_token"] as? String)
            func preflight(_ origin: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/2.0/files/@my", method: .options,
                                         headers: [.origin: origin, .accessControlRequestMethod: "GET",
                                                   .accessControlRequestHeaders: "authorization"])
            }
            let allowed = try await preflight("https://other.example.com")
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://other.example.com")
            #expect(allowed.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            #expect(allowed.headers[.vary] == "Origin")
            #expect(try await preflight("https://evil.example.com").headers[.accessControlAllowOrigin] == nil)

            func get(_ origin: String, token: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/2.0/files/@my", method: .get, headers: [.origin: origin, .authorization: "Bearer \(token)"])
            }
            let own = try await get("https://app.example.com", token: token)
            #expect(own.status == .ok)
            #expect(own.headers[.accessControlAllowOrigin] == "https://app.example.com")
            #expect(own.headers[.vary] == "Origin")
            #expect(own.headers[.accessControlAllowCredentials] == nil)
            let foreign = try await get("https://other.example.com", token: token)
            #expect(foreign.status == .ok)
            #expect(foreign.headers[.accessControlAllowOrigin] == nil)
            let refused = try await get("https://app.example.com", token: "x.y.z")
            #expect(refused.status == .unauthorized)
            let portal = try await get("https://app.example.com", token: try await portalToken(client))
            #expect(portal.headers[.accessControlAllowOrigin] == nil)

            // Disabling the other app withdraws its origin from preflights at once.
            let owner = try await portalToken(client)
            #expect(try await api(client, .patch, "/api/2.0/clients/\(other.clientID)/activation", token: owner, json: ["status": false]).status == .ok)
            #expect(try await preflight("https://other.example.com").headers[.accessControlAllowOrigin] == nil)
        }
    }

    // MARK: helpers

    static func call(_ client: any TestClientProtocol, _ route: Route, token: String) async throws -> TestResponse {
        if route.path.hasSuffix("/upload") {
            return try await uploadResponse(client, token: token, path: route.path, name: "t.txt", bytes: [1])
        }
        return try await api(client, route.method, route.path, token: token, json: route.body)
    }

    static func resign(_ claims: AccessTokenClaims, key: SigningKey, header: [String: String]) throws -> String {
        let input = Base64URL.encode(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
            + "." + Base64URL.encode(try JSONEncoder().encode(claims))
        return input + "." + Base64URL.encode(try key.sign(Data(input.utf8)))
    }

    static func myDocuments(_ client: any TestClientProtocol, token: String) async throws -> Int64 {
        let body = try await api(client, .get, "/api/2.0/files/@my", token: token).json()
        return try #require(((body["response"] as? [String: Any])?["current"] as? [String: Any])?["id"] as? Int64)
    }

    static func personID(_ client: any TestClientProtocol, token: String) async throws -> String {
        try #require((try await api(client, .get, "/api/2.0/people/@self", token: token).json()["response"] as? [String: Any])?["id"] as? String)
    }

    static func createFolder(_ client: any TestClientProtocol, token: String, parent: Int64, title: String) async throws -> Int64 {
        let response = try await api(client, .post, "/api/2.0/files/folder/\(parent)", token: token, json: ["title": title])
        #expect(response.status == .created)
        return try #require((response.json()["response"] as? [String: Any])?["id"] as? Int64)
    }

    static func createRoom(_ client: any TestClientProtocol, token: String, title: String) async throws -> Int64 {
        let response = try await api(client, .post, "/api/2.0/files/rooms", token: token, json: ["title": title])
        #expect(response.status == .created)
        return try #require((response.json()["response"] as? [String: Any])?["id"] as? Int64)
    }

    static func upload(_ client: any TestClientProtocol, token: String, folder: Int64, name: String, bytes: [UInt8]) async throws -> Int64 {
        let response = try await uploadResponse(client, token: token, folder: folder, name: name, bytes: bytes)
        #expect(response.status == .created)
        return try #require((response.json()["response"] as? [String: Any])?["id"] as? Int64)
    }

    static func multipartHeaders(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)", .contentType: "multipart/form-data; boundary=XyZ"]
    }

    static func uploadResponse(_ client: any TestClientProtocol, token: String, folder: Int64? = nil, path: String? = nil, name: String,
                               bytes: [UInt8]) async throws -> TestResponse {
        var body = ByteBuffer()
        body.writeString("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: image/png\r\n\r\n")
        body.writeBytes(bytes)
        body.writeString("\r\n--XyZ--\r\n")
        return try await client.execute(uri: path ?? "/api/2.0/files/\(folder ?? 0)/upload", method: .post, headers: multipartHeaders(token),
                                        body: body)
    }
}

extension HTTPField.Name {
    static let accessControlRequestMethod = Self("Access-Control-Request-Method")!
    static let accessControlRequestHeaders = Self("Access-Control-Request-Headers")!
    static let accessControlAllowOrigin = Self("Access-Control-Allow-Origin")!
    static let accessControlAllowHeaders = Self("Access-Control-Allow-Headers")!
    static let accessControlAllowCredentials = Self("Access-Control-Allow-Credentials")!
    static let vary = Self("Vary")!
}
