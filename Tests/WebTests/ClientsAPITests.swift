import Foundation
import GatehouseTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import PortalCore
import Testing

/// A registration body that passes every rule.
func registrationJSON() -> [String: Any] {
    [
        "name": "Docs Sync",
        "description": "Keeps documents in sync",
        "logo": TestImages.dataURI(TestImages.png(width: 32, height: 32)),
        "website_url": "https://sync.example.com",
        "allow_pkce": true,
        "redirect_uris": ["https://sync.example.com/callback", "http://127.0.0.1:8765/cb"],
        "allowed_origins": ["https://sync.example.com"],
        "scopes": ["files:write", "openid"],
        "policy_url": "https://sync.example.com/privacy",
        "terms_url": "https://sync.example.com/terms",
    ]
}

@Suite struct ClientsAPITests {
    @Test(arguments: TestDatabaseKind.available)
    func registerReadUpdateRegenerateDisableDelete(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            let token = try await portalToken(client)
            let created = try await api(client, .post, "/api/2.0/clients", token: token, json: registrationJSON())
            #expect(created.status == .created)
            let app = try created.json()
            let id = try #require(app["client_id"] as? String)
            let secret = try #require(app["client_secret"] as? String)
            #expect(UUID(uuidString: id) != nil)
            #expect(Data(base64Encoded: secret.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=")?.count == 32)
            #expect(app["scopes"] as? [String] == ["files:read", "files:write", "openid"])
            #expect(app["authentication_methods"] as? [String] == ["client_secret_basic", "client_secret_post", "none"])
            #expect(app["enabled"] as? Bool == true)
            #expect(app["is_public"] as? Bool == true)
            for field in ["name", "description", "logo", "website_url", "terms_url", "policy_url", "redirect_uris",
                          "allowed_origins", "allow_pkce", "created_on", "created_by", "modified_on", "modified_by"] {
                #expect(app[field] != nil, "missing \(field)")
            }
            // The secret is kept only as its hash.
            let stored = try await scratch.inspect { database in
                try await database.read {
                    try await $0.raw("SELECT secret_hash FROM oauth_clients").first()?.decode(column: "secret_hash", as: String.self)
                }
            }
            #expect(stored != secret)
            #expect(stored?.count == 64)

            let read = try await api(client, .get, "/api/2.0/clients/\(id)", token: token)
            #expect(read.status == .ok)
            #expect(try read.json()["client_secret"] == nil)

            // The icon is served at its URL with its true type and a policy that runs nothing.
            let logoURL = try #require(app["logo"] as? String)
            let iconPath = String(logoURL.drop(while: { $0 != "/" }).dropFirst(2).drop(while: { $0 != "/" }))
            let icon = try await client.execute(uri: iconPath, method: .get)
            #expect(icon.status == .ok)
            #expect(icon.headers[.contentType] == "image/png")
            #expect(icon.headers[.xContentTypeOptions] == "nosniff")
            #expect(icon.headers[.contentSecurityPolicy] == "default-src 'none'; style-src 'unsafe-inline'; sandbox")

            let updated = try await api(client, .put, "/api/2.0/clients/\(id)", token: token, json: [
                "name": "Docs Sync Pro", "redirect_uris": ["com.example.sync:/oauth2redirect"],
            ])
            #expect(updated.status == .ok)
            let updatedApp = try updated.json()
            #expect(updatedApp["name"] as? String == "Docs Sync Pro")
            #expect(updatedApp["redirect_uris"] as? [String] == ["com.example.sync:/oauth2redirect"])
            #expect(updatedApp["website_url"] as? String == "https://sync.example.com")

            let regenerated = try await api(client, .patch, "/api/2.0/clients/\(id)/regenerate", token: token)
            #expect(regenerated.status == .ok)
            let newSecret = try #require(try regenerated.json()["client_secret"] as? String)
            #expect(newSecret != secret)

            let disabled = try await api(client, .patch, "/api/2.0/clients/\(id)/activation", token: token, json: ["status": false])
            #expect(disabled.status == .ok)
            #expect(try disabled.json()["enabled"] as? Bool == false)
            #expect(try await api(client, .get, "/api/2.0/clients/\(id)/public/info", token: nil).status == .notFound)
            let enabled = try await api(client, .patch, "/api/2.0/clients/\(id)/activation", token: token, json: ["status": true])
            #expect(try enabled.json()["enabled"] as? Bool == true)

            let info = try await api(client, .get, "/api/2.0/clients/\(id)/public/info", token: nil)
            #expect(info.status == .ok)
            #expect(try info.json()["name"] as? String == "Docs Sync Pro")
            #expect(try info.json()["client_secret"] == nil)

            let audit = try await api(client, .get, "/api/2.0/clients/audit?client_id=\(id)", token: token)
            let actions = try #require(try audit.json()["data"] as? [[String: Any]]).compactMap { $0["action"] as? String }
            #expect(actions == ["enabled", "disabled", "secret_regenerated", "updated", "created"])

            let deleted = try await api(client, .delete, "/api/2.0/clients/\(id)", token: token)
            #expect(deleted.status == .noContent)
            #expect(try await api(client, .get, "/api/2.0/clients/\(id)", token: token).status == .notFound)
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
    }

    @Test func scopesListTheCatalog() async throws {
        try await withTestApp { client, _ in
            let response = try await client.execute(uri: "/api/2.0/scopes", method: .get)
            let scopes = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: String]])
            #expect(scopes.count == 9)
            #expect(scopes.contains { $0["name"] == "files:write" && $0["type"] == "write" && $0["group"] == "files" })
            #expect(scopes.contains { $0["name"] == "openid" && $0["type"] == "openid" })
        }
    }

    static let badRegistrations: [(String, @Sendable (inout [String: Any]) -> Void, String)] = [
        ("no name", { $0["name"] = nil }, "name"),
        ("short name", { $0["name"] = "ab" }, "name"),
        ("long name", { $0["name"] = String(repeating: "n", count: 257) }, "name"),
        ("long description", { $0["description"] = String(repeating: "d", count: 256) }, "description"),
        ("bad website", { $0["website_url"] = "not a url" }, "website_url"),
        ("no policy", { $0["policy_url"] = nil }, "policy_url"),
        ("bad terms", { $0["terms_url"] = "ftp://t.example" }, "terms_url"),
        ("no logo", { $0["logo"] = nil }, "logo"),
        ("64px png", { $0["logo"] = TestImages.dataURI(TestImages.png(width: 64, height: 64)) }, "logo"),
        ("gif", { $0["logo"] = TestImages.dataURI(TestImages.gif, type: "image/gif") }, "logo"),
        ("png as svg", { $0["logo"] = TestImages.dataURI(TestImages.png(width: 32, height: 32), type: "image/svg+xml") }, "logo"),
        ("svg script", { $0["logo"] = TestImages.dataURI(Data(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>alert(1)</script></svg>"#.utf8), type: "image/svg+xml") }, "logo"),
        ("svg onload", { $0["logo"] = TestImages.dataURI(Data(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1" onload="alert(1)"/>"#.utf8), type: "image/svg+xml") }, "logo"),
        ("svg foreignObject", { $0["logo"] = TestImages.dataURI(Data(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><foreignObject/></svg>"#.utf8), type: "image/svg+xml") }, "logo"),
        ("svg external image", { $0["logo"] = TestImages.dataURI(Data(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><image href="https://evil.example/a.png"/></svg>"#.utf8), type: "image/svg+xml") }, "logo"),
        ("svg entity", { $0["logo"] = TestImages.dataURI(Data(#"<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">&a;</svg>"#.utf8), type: "image/svg+xml") }, "logo"),
        ("257 KB", { $0["logo"] = TestImages.dataURI(TestImages.png(width: 32, height: 32) + Data(count: 257 * 1024)) }, "logo"),
        ("not base64", { $0["logo"] = "data:image/png,iVBORw0KGgo" }, "logo"),
        ("13 redirects", { $0["redirect_uris"] = (1...13).map { "https://sync.example.com/\($0)" } }, "redirect_uris"),
        ("fragment", { $0["redirect_uris"] = ["https://sync.example.com/cb#frag"] }, "redirect_uris"),
        ("wildcard", { $0["redirect_uris"] = ["https://*.example.com/cb"] }, "redirect_uris"),
        ("http not loopback", { $0["redirect_uris"] = ["http://example.com/cb"] }, "redirect_uris"),
        ("origin with path", { $0["allowed_origins"] = ["https://sync.example.com/app"] }, "allowed_origins"),
        ("no scopes", { $0["scopes"] = [String]() }, "scopes"),
        ("unknown scope", { $0["scopes"] = ["files:admin"] }, "scopes"),
        ("name of wrong type", { $0["name"] = 42 }, "name"),
        ("scopes of wrong type", { $0["scopes"] = "files:read" }, "scopes"),
        ("allow_pkce of wrong type", { $0["allow_pkce"] = "yes" }, "allow_pkce"),
        ("allow_pkce as number", { $0["allow_pkce"] = 1 }, "allow_pkce"),
    ]

    @Test(arguments: badRegistrations)
    func badRegistrationsAreRefusedNamingTheFieldAndWriteNothing(
        name: String, breakIt: @Sendable (inout [String: Any]) -> Void, field: String
    ) async throws {
        try await withTestApp { client, scratch in
            let token = try await portalToken(client)
            var body = registrationJSON()
            breakIt(&body)
            let response = try await api(client, .post, "/api/2.0/clients", token: token, json: body)
            #expect(response.status == .badRequest, "\(name)")
            #expect(response.headers[.contentType] == "application/problem+json")
            let errors = try #require(try response.json()["errors"] as? [[String: Any]], "\(name)")
            #expect(errors.contains { $0["field"] as? String == field }, "\(name): \(errors)")
            #expect(errors.allSatisfy { ($0["code"] as? String)?.hasPrefix("E") == true })
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
            #expect(try await rowCount("oauth_client_audit", in: scratch) == 0)
        }
    }

    @Test func malformedBodiesAreProblems() async throws {
        try await withTestApp { client, scratch in
            let token = try await portalToken(client)
            for (body, type, status) in [("{", "application/json", 400), ("[]", "application/json", 400), ("{}", "text/plain", 415)] {
                let response = try await client.execute(
                    uri: "/api/2.0/clients", method: .post,
                    headers: [.authorization: "Bearer \(token)", .contentType: type], body: ByteBuffer(string: body)
                )
                #expect(response.status.code == status)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
    }

    @Test func whoMaySeeAndManageWhat() async throws {
        try await withTestApp { client, scratch in
            try await addPerson(scratch, email: "ann@example.com", role: .user)
            try await addPerson(scratch, email: "bob@example.com", role: .user)
            try await addPerson(scratch, email: "gus@example.com", role: .guest)
            try await addPerson(scratch, email: "ada@example.com", role: .admin)
            let ann = try await portalToken(client, email: "ann@example.com", password: "person-password-1")
            let bob = try await portalToken(client, email: "bob@example.com", password: "person-password-1")
            let gus = try await portalToken(client, email: "gus@example.com", password: "person-password-1")
            let ada = try await portalToken(client, email: "ada@example.com", password: "person-password-1")

            let created = try await api(client, .post, "/api/2.0/clients", token: ann, json: registrationJSON())
            let id = try #require(try created.json()["client_id"] as? String)

            // Another user: 404 everywhere, nothing changes.
            #expect(try await api(client, .get, "/api/2.0/clients/\(id)", token: bob).status == .notFound)
            #expect(try await api(client, .put, "/api/2.0/clients/\(id)", token: bob, json: ["name": "Mine now"]).status == .notFound)
            #expect(try await api(client, .patch, "/api/2.0/clients/\(id)/regenerate", token: bob).status == .notFound)
            #expect(try await api(client, .patch, "/api/2.0/clients/\(id)/activation", token: bob, json: ["status": false]).status == .notFound)
            #expect(try await api(client, .delete, "/api/2.0/clients/\(id)", token: bob).status == .notFound)
            let bobsList = try await api(client, .get, "/api/2.0/clients", token: bob)
            #expect((try bobsList.json()["data"] as? [Any])?.isEmpty == true)

            // Guests register nothing and see nothing.
            #expect(try await api(client, .post, "/api/2.0/clients", token: gus, json: registrationJSON()).status == .forbidden)
            #expect(try await api(client, .get, "/api/2.0/clients/\(id)", token: gus).status == .notFound)

            // Admins see and manage every app; only admins read the audit log.
            #expect(try await api(client, .get, "/api/2.0/clients/\(id)", token: ada).status == .ok)
            let adasList = try await api(client, .get, "/api/2.0/clients", token: ada)
            #expect((try adasList.json()["data"] as? [Any])?.count == 1)
            #expect(try await api(client, .get, "/api/2.0/clients/audit", token: ada).status == .ok)
            #expect(try await api(client, .get, "/api/2.0/clients/audit", token: ann).status == .forbidden)

            #expect(try await api(client, .get, "/api/2.0/clients/\(id)", token: ann).status == .ok)
            #expect(try await api(client, .get, "/api/2.0/clients", token: nil).status == .unauthorized)
            #expect(try await rowCount("oauth_clients", in: scratch) == 1)
            let name = try await scratch.inspect { database in
                try await database.read { try await $0.raw("SELECT name FROM oauth_clients").first()?.decode(column: "name", as: String.self) }
            }
            #expect(name == "Docs Sync")
        }
    }

    @Test func thePerPersonLimitIsA400() async throws {
        try await withTestApp(extra: ["GATEHOUSE_CLIENTS_PER_PERSON": "2"]) { client, scratch in
            let token = try await portalToken(client)
            for _ in 0..<2 {
                #expect(try await api(client, .post, "/api/2.0/clients", token: token, json: registrationJSON()).status == .created)
            }
            let refused = try await api(client, .post, "/api/2.0/clients", token: token, json: registrationJSON())
            #expect(refused.status == .badRequest)
            #expect((try refused.json()["detail"] as? String)?.contains("maximum of 2") == true)
            #expect(try await rowCount("oauth_clients", in: scratch) == 2)
        }
    }

    @Test func theListIsKeysetPaginated() async throws {
        try await withTestApp { client, _ in
            let token = try await portalToken(client)
            for _ in 0..<5 {
                _ = try await api(client, .post, "/api/2.0/clients", token: token, json: registrationJSON())
            }
            var ids: [String] = []
            var path = "/api/2.0/clients?limit=2"
            for _ in 0..<5 {
                let page = try await api(client, .get, path, token: token).json()
                #expect(page["limit"] as? Int == 2)
                ids += try #require(page["data"] as? [[String: Any]]).compactMap { $0["client_id"] as? String }
                guard let lastID = page["last_client_id"] as? String, let lastCreated = page["last_created_on"] as? String else { break }
                let encoded = lastCreated.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? lastCreated
                path = "/api/2.0/clients?limit=2&last_client_id=\(lastID)&last_created_on=\(encoded)"
            }
            #expect(ids.count == 5)
            #expect(Set(ids).count == 5)
            #expect(try await api(client, .get, "/api/2.0/clients?limit=51", token: token).status == .badRequest)
            #expect(try await api(client, .get, "/api/2.0/clients?limit=0", token: token).status == .badRequest)
        }
    }
}
