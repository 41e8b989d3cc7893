import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OAuthCore
import PortalCore
import Storage
import Testing
@testable import Web

/// API keys (SPEC §7): made, listed, changed and removed in DocSpace's envelope; a key calls the
/// portal API as its creator within its permissions; bad input is refused with nothing written.
@Suite struct APIKeysTests {
    static func create(_ client: any TestClientProtocol, token: String, _ body: [String: Any]) async throws -> TestResponse {
        try await api(client, .post, "/api/2.0/keys", token: token, json: body)
    }

    static func response(_ answer: TestResponse) throws -> [String: Any] {
        try #require(try answer.json()["response"] as? [String: Any])
    }

    @Test(arguments: TestDatabaseKind.available)
    func aKeyIsMadeShownOnceAndActsAsItsCreatorWithinItsPermissions(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            let owner = try await portalToken(client)
            let permissions = try await api(client, .get, "/api/2.0/keys/permissions", token: owner)
            #expect(try permissions.json()["response"] as? [String] == APIKeyRules.permissionNames)

            let made = try await Self.create(client, token: owner, ["name": "Reports", "permissions": ["files:read"], "expiresInDays": 30])
            #expect(made.status == .created)
            let key = try Self.response(made)
            let secret = try #require(key["key"] as? String)
            #expect(APIKeyRules.hasKeyForm(secret), "sk- and 64 lowercase hex characters: \(secret)")
            #expect(key["keyPostfix"] as? String == String(secret.suffix(4)))
            #expect(key["permissions"] as? [String] == ["files:read"])
            #expect(key["isActive"] as? Bool == true && key["expiresAt"] is String && key["lastUsed"] is NSNull)
            #expect((key["createBy"] as? [String: Any])?["email"] as? String == ownerEmail)
            // Stored only as its hash.
            let stored = try await scratch.inspect { database in
                try await database.read { try await $0.raw("SELECT secret_hash FROM api_keys").all().map { try $0.decode(column: "secret_hash", as: String.self) } }
            }
            #expect(stored == [OpaqueToken.hash(secret)])
            // Listed masked.
            let listed = try #require(try await api(client, .get, "/api/2.0/keys", token: owner).json()["response"] as? [[String: Any]])
            #expect(listed.count == 1 && listed[0]["key"] as? String == "sk-***" + secret.suffix(4))

            // The key reads files, as its creator; it may not write, nor reach routes with no scope.
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: secret).status == .ok)
            let write = try await api(client, .post, "/api/2.0/files/folder/1", token: secret, json: ["title": "x"])
            #expect(write.status == .forbidden && write.headers[.wwwAuthenticate]?.contains("insufficient_scope") == true)
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: secret).status == .forbidden)
            #expect(try await api(client, .get, "/api/2.0/clients", token: secret).status == .forbidden)
            #expect(try await api(client, .get, "/api/2.0/keys", token: secret).status == .forbidden)
            let itself = try await api(client, .get, "/api/2.0/keys/@self", token: secret)
            #expect(try itself.status == .ok && Self.response(itself)["id"] as? String == key["id"] as? String)
            // The use shows as "last used".
            let used = try #require(try await api(client, .get, "/api/2.0/keys", token: owner).json()["response"] as? [[String: Any]])
            #expect(used[0]["lastUsed"] is String)

            // Turned off: 401 invalid_token; on again: works.
            let id = try #require(key["id"] as? String)
            #expect(try await api(client, .put, "/api/2.0/keys/\(id)", token: owner, json: ["isActive": false]).status == .ok)
            let off = try await api(client, .get, "/api/2.0/files/@my", token: secret)
            #expect(off.status == .unauthorized && off.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true)
            #expect(try await api(client, .put, "/api/2.0/keys/\(id)", token: owner, json: ["isActive": true, "permissions": ["*"]]).status == .ok)
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: secret).status == .ok, "* is every scope")
            // Found by a review: a rename at the same moment as turning the key off never turns it back on.
            for round in 0..<40 {
                async let off = api(client, .put, "/api/2.0/keys/\(id)", token: owner, json: ["isActive": false])
                async let renamed = api(client, .put, "/api/2.0/keys/\(id)", token: owner, json: ["name": "Reports \(round)"])
                let (offStatus, renamedStatus) = try await (off.status, renamed.status)
                #expect(offStatus == .ok && renamedStatus == .ok)
                #expect(try await api(client, .get, "/api/2.0/files/@my", token: secret).status == .unauthorized, "round \(round)")
                #expect(try await api(client, .put, "/api/2.0/keys/\(id)", token: owner, json: ["isActive": true]).status == .ok)
            }
            // Without any credentials, @self is 401 with the challenge.
            let nobody = try await api(client, .get, "/api/2.0/keys/@self", token: nil)
            #expect(nobody.status == .unauthorized && nobody.headers[.wwwAuthenticate]?.contains("resource_metadata") == true)
            // Removed: 401.
            #expect(try await api(client, .delete, "/api/2.0/keys/\(id)", token: owner).status == .ok)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: secret).status == .unauthorized)
            #expect(try await rowCount("api_keys", in: scratch) == 0)
        }
    }

    /// Every bad input named in the issue: refused in the envelope, nothing written.
    @Test func badInputIsRefusedAndWritesNothing() async throws {
        try await withTestApp(extra: ["GATEHOUSE_API_KEYS_PER_PERSON": "2"]) { client, scratch in
            let owner = try await portalToken(client)
            let bad: [[String: Any]] = [
                ["name": ""], ["name": "   "], ["name": String(repeating: "n", count: 31)], ["name": "a\u{7}b"],
                ["name": "k", "permissions": ["files:delete"]], ["name": "k", "permissions": ["openid"]],
                ["name": "k", "expiresInDays": 0], ["name": "k", "expiresInDays": 366], ["name": "k", "expiresInDays": "ten"],
                ["permissions": ["*"]],
            ]
            for body in bad {
                let refused = try await Self.create(client, token: owner, body)
                #expect(refused.status == .badRequest, "\(body)")
                #expect(try refused.json()["statusCode"] as? Int == 400, "DocSpace's envelope: \(body)")
            }
            #expect(try await rowCount("api_keys", in: scratch) == 0)

            // A guest may not; someone else's key is not found; the limit holds.
            try await addPerson(scratch, email: "guest@example.com", role: .guest)
            let guest = try await portalToken(client, email: "guest@example.com", password: "person-password-1")
            #expect(try await Self.create(client, token: guest, ["name": "mine"]).status == .forbidden)
            try await addPerson(scratch, email: "user@example.com", role: .user)
            let user = try await portalToken(client, email: "user@example.com", password: "person-password-1")
            let owners = try Self.response(try await Self.create(client, token: owner, ["name": "owner's"]))
            let ownersID = try #require(owners["id"] as? String)
            #expect(try await api(client, .put, "/api/2.0/keys/\(ownersID)", token: user, json: ["name": "taken"]).status == .notFound)
            #expect(try await api(client, .delete, "/api/2.0/keys/\(ownersID)", token: user).status == .notFound)
            #expect(try await api(client, .get, "/api/2.0/keys", token: user).json()["count"] as? Int == 0, "a person sees only their own")
            // An admin narrows another person's key but never widens it.
            let users = try Self.response(try await Self.create(client, token: user, ["name": "user's", "permissions": ["files:read", "rooms:read"]]))
            let usersID = try #require(users["id"] as? String)
            #expect(try await api(client, .put, "/api/2.0/keys/\(usersID)", token: owner, json: ["permissions": ["*"]]).status == .forbidden)
            let narrowed = try await api(client, .put, "/api/2.0/keys/\(usersID)", token: owner, json: ["permissions": ["files:read"]])
            #expect(try narrowed.status == .ok && Self.response(narrowed)["permissions"] as? [String] == ["files:read"])
            #expect(try await api(client, .delete, "/api/2.0/keys/\(usersID)", token: user).status == .ok)
            #expect(try await Self.create(client, token: owner, ["name": "second"]).status == .created)
            let third = try await Self.create(client, token: owner, ["name": "third"])
            #expect(third.status == .badRequest)
            #expect(try await rowCount("api_keys", in: scratch) == 2)

            // Malformed keys: 401 invalid_token.
            for token in ["sk-" + String(repeating: "a", count: 63), "sk-" + String(repeating: "A", count: 64), "sk-" + String(repeating: "0", count: 64)] {
                let refused = try await api(client, .get, "/api/2.0/files/@my", token: token)
                #expect(refused.status == .unauthorized && refused.headers[.wwwAuthenticate]?.contains("invalid_token") == true, "\(token)")
            }
        }
    }

    /// An expired key is refused, housekeeping marks it inactive, and it cannot be activated again;
    /// removing its person removes it.
    @Test func expiredKeysStopAndStayStopped() async throws {
        let clock = FixedTime(Date())
        try await withTestApp(clock: clock) { client, scratch in
            let owner = try await portalToken(client)
            let made = try Self.response(try await Self.create(client, token: owner, ["name": "short", "expiresInDays": 1]))
            let secret = try #require(made["key"] as? String)
            let id = try #require(made["id"] as? String)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: secret).status == .ok)
            clock.advance(by: 86_400 + 1)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: secret).status == .unauthorized)
            // Expired but not yet marked inactive: turning it on is refused all the same.
            #expect(try await api(client, .put, "/api/2.0/keys/\(id)", token: owner, json: ["isActive": true]).status == .badRequest)
            let report = try await scratch.inspect { try await SQLHousekeeping(database: $0).sweep(now: clock.now) { } }
            #expect(report.deactivated["api_keys"] == 1)
            let listed = try #require(try await api(client, .get, "/api/2.0/keys", token: owner).json()["response"] as? [[String: Any]])
            #expect(listed.first?["isActive"] as? Bool == false)
            let again = try await api(client, .put, "/api/2.0/keys/\(id)", token: owner, json: ["isActive": true])
            #expect(again.status == .badRequest)

            try await addPerson(scratch, email: "leaving@example.com", role: .user)
            let leaving = try await portalToken(client, email: "leaving@example.com", password: "person-password-1")
            #expect(try await Self.create(client, token: leaving, ["name": "theirs"]).status == .created)
            let people = try #require(try await api(client, .get, "/api/2.0/people", token: owner).json()["response"] as? [[String: Any]])
            let leavingID = try #require(people.first { $0["email"] as? String == "leaving@example.com" }?["id"] as? String)
            #expect(try await api(client, .delete, "/api/2.0/people/\(leavingID)", token: owner).status == .ok)
            #expect(try await rowCount("api_keys", in: scratch) == 1, "only the owner's expired key is left")
        }
    }
}

/// The API keys page (SPEC §7): the same rules as the REST API, refusals shown on the page with
/// nothing written, forms only with the page's CSRF token.
@Suite struct APIKeyPagesTests {
    @Test func thePageRefusesBadFormsAndWritesNothing() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let page = try await browser.get(client, "/developer-tools/api-keys")
            #expect(page.status == .ok && page.text.contains("id=\"create-key\""))
            let csrf = try #require(csrfToken(in: page.text))
            for (fields, message) in [
                ([("name", ""), ("access", "all")], "The name must be"),
                ([("name", "k"), ("access", "all"), ("days", "366")], "expiresInDays"),
                ([("name", "k"), ("access", "all"), ("days", "soon")], "expiresInDays"),
                ([("name", "k"), ("access", "restricted"), ("permissions", "files:delete")], "Unknown permissions"),
            ] {
                let refused = try await browser.post(client, "/developer-tools/api-keys", form: [("csrf_token", csrf)] + fields)
                #expect(refused.status == .badRequest && refused.text.contains(message), "\(fields)")
            }
            let forged = try await browser.post(client, "/developer-tools/api-keys", form: [("name", "k"), ("access", "all")])
            #expect(forged.status == .forbidden)
            #expect(try await rowCount("api_keys", in: scratch) == 0)
            // Read only is *:read; the key is shown on the answer and never again.
            let formToken = try #require(page.text.range(of: "name=\"form_token\" value=\"").map { String(page.text[$0.upperBound...].prefix(22)) })
            let fields = [("csrf_token", csrf), ("form_token", formToken), ("name", "Reader"), ("access", "read")]
            let made = try await browser.post(client, "/developer-tools/api-keys", form: fields)
            #expect(made.status == .seeOther)
            let shown = try await browser.get(client, try #require(made.headers[.location]))
            #expect(shown.text.contains("id=\"new-key\">sk-") && shown.headers[.cacheControl] == "no-store")
            let listed = try await browser.get(client, try #require(made.headers[.location]))
            #expect(listed.text.contains("*:read") && !listed.text.contains("id=\"new-key\""), "shown once")
            // The same form sent again makes no second key, and leads to the same view.
            let again = try await browser.post(client, "/developer-tools/api-keys", form: fields)
            #expect(again.status == .seeOther && again.headers[.location] == made.headers[.location])
            #expect(try await rowCount("api_keys", in: scratch) == 1)
        }
    }
}
