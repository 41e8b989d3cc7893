import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OAuthCore
import Storage
import Testing

/// Dynamic client registration (SPEC §6, RFC 7591 and 7592) under its policies and limits.
@Suite struct DynamicRegistrationTests {
    static func register(_ client: any TestClientProtocol, _ body: ByteBuffer, contentType: String = "application/json",
                         address: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: contentType]
        if let address { headers[HTTPField.Name("X-Forwarded-For")!] = address }
        return try await client.execute(uri: "/oauth2/register", method: .post, headers: headers, body: body)
    }

    static func register(_ client: any TestClientProtocol, _ object: [String: Any]) async throws -> TestResponse {
        try await register(client, try jsonBody(object))
    }

    static var native: [String: Any] { [
        "redirect_uris": ["http://127.0.0.1:33418/callback"], "client_name": "Desk Assistant", "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "scope": "openid files:read",
    ] }

    /// A native app registers itself, signs a person in with PKCE (asked every time, never remembered),
    /// reads and changes its registration with its token, and deletes itself.
    @Test(arguments: TestDatabaseKind.available)
    func aNativeAppRegistersItselfAndIsAskedForEveryTime(_ kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            let discovery = try await client.execute(uri: "/.well-known/oauth-authorization-server", method: .get).json()
            #expect(discovery["registration_endpoint"] as? String == "http://127.0.0.1:8080/oauth2/register")
            let response = try await Self.register(client, Self.native)
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try response.json()
            let id = try #require(body["client_id"] as? String)
            var token = try #require(body["registration_access_token"] as? String)
            #expect(body["client_secret"] == nil && body["token_endpoint_auth_method"] as? String == "none")
            #expect(body["registration_client_uri"] as? String == "http://127.0.0.1:8080/oauth2/register/\(id)")
            // Public and cookie-free: any origin may register from its page, without credentials.
            let preflight = try await client.execute(uri: "/oauth2/register", method: .options, headers: [
                .origin: "https://assistant.example", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "content-type",
            ])
            #expect(preflight.headers[.accessControlAllowOrigin] == "*" && preflight.headers[.accessControlAllowCredentials] == nil)
            #expect(body["scope"] as? String == "files:read openid" || body["scope"] as? String == "openid files:read")
            #expect(try await rowCount("oauth_clients", in: scratch) == 1)

            // Sign-in with PKCE at any loopback port; the consent screen says who registered it.
            let app = TestApp(clientID: id, secret: "", redirectURI: "http://127.0.0.1:51000/callback")
            var browser = Browser()
            _ = try await browser.signIn(client)
            let pkce = PKCEPair.make()
            let path = authorizePath([
                "response_type": "code", "client_id": id, "redirect_uri": app.redirectURI, "scope": "files:read",
                "state": "s", "code_challenge": pkce.challenge, "code_challenge_method": "S256",
            ])
            let consent = try await browser.get(client, path)
            #expect(consent.text.contains("id=\"self-registered\"") && consent.text.contains("id=\"this-device-warning\""))
            #expect(consent.text.contains("<strong class=\"redirect-host\" id=\"redirect-host\">127.0.0.1</strong>"))
            let answered = try await browser.authorize(client, path)
            let code = try #require(queryItems(answered.headers[.location] ?? "")["code"])
            let tokens = try await tokenRequest(client, [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", app.redirectURI), ("code_verifier", pkce.verifier),
                ("client_id", id),
            ])
            #expect(tokens.status == .ok)
            // Never remembered: asked again, and prompt=none cannot pass silently.
            let again = try await browser.get(client, path)
            #expect(again.status == .ok && again.text.contains("action=\"/oauth2/authorize\""))
            let silent = try await browser.get(client, path + "&prompt=none")
            #expect(queryItems(silent.headers[.location] ?? "")["error"] == "consent_required")

            // RFC 7592: read, update (re-checked against the policy), delete — with the token only.
            let uri = "/oauth2/register/\(id)"
            #expect(try await api(client, .get, uri, token: nil).status == .unauthorized)
            #expect(try await api(client, .get, uri, token: token + "x").status == .unauthorized)
            let read = try await api(client, .get, uri, token: token)
            #expect(read.status == .ok)
            #expect(try read.json()["client_name"] as? String == "Desk Assistant")
            // RFC 7592 §3: the answer carries a new registration access token; the one used has ended.
            token = try #require(try read.json()["registration_access_token"] as? String)
            #expect(try await api(client, .get, uri, token: body["registration_access_token"] as? String).status == .unauthorized)
            var changed = Self.native
            changed["client_id"] = id
            changed["client_name"] = "Desk Assistant 2"
            let updated = try await api(client, .put, uri, token: token, json: changed)
            #expect(updated.status == .ok)
            #expect(try updated.json()["client_name"] as? String == "Desk Assistant 2")
            token = try #require(try updated.json()["registration_access_token"] as? String)
            changed["redirect_uris"] = ["https://web.example.com/cb"]
            let refused = try await api(client, .put, uri, token: token, json: changed)
            #expect(refused.status == .badRequest)
            #expect(try refused.json()["error"] as? String == "invalid_redirect_uri")
            let reread = try await api(client, .get, uri, token: token).json()
            #expect((reread["redirect_uris"] as? [String]) == ["http://127.0.0.1:33418/callback"])
            token = try #require(reread["registration_access_token"] as? String)
            #expect(try await api(client, .delete, uri, token: token).status == .noContent)
            #expect(try await api(client, .get, uri, token: token).status == .unauthorized)
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
            let bearer = try #require(try tokens.json()["access_token"] as? String)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: bearer).status == .unauthorized, "its tokens ended with it")
        }
    }

    /// Every bad registration named in the issue: the RFC 7591 §3.2.2 error, and no app.
    @Test func badRegistrationsAreRefusedAndWriteNothing() async throws {
        try await withTestApp { client, scratch in
            func with(_ changes: [String: Any]) -> [String: Any] { Self.native.merging(changes) { $1 } }
            let thirteen = (1...13).map { "http://127.0.0.1/cb\($0)" }
            let cases: [(String, [String: Any], String)] = [
                ("http on a host", with(["redirect_uris": ["http://app.example.com/cb"]]), "invalid_redirect_uri"),
                ("javascript:", with(["redirect_uris": ["javascript:alert(1)"]]), "invalid_redirect_uri"),
                ("a fragment", with(["redirect_uris": ["http://127.0.0.1/cb#x"]]), "invalid_redirect_uri"),
                ("13 redirect URIs", with(["redirect_uris": thirteen]), "invalid_redirect_uri"),
                ("no redirect URI", with(["redirect_uris": [String]()]), "invalid_redirect_uri"),
                ("https under native", with(["redirect_uris": ["https://app.example.com/cb"]]), "invalid_redirect_uri"),
                ("a confidential client under native", with(["token_endpoint_auth_method": "client_secret_basic"]), "invalid_client_metadata"),
                ("an unknown scope", with(["scope": "files:read admin"]), "invalid_client_metadata"),
                ("an ftp policy", with(["policy_uri": "ftp://app.example.com/p"]), "invalid_client_metadata"),
                ("a number for a name", with(["client_name": 42]), "invalid_client_metadata"),
                ("the implicit grant", with(["grant_types": ["implicit"]]), "invalid_client_metadata"),
            ]
            for (name, body, error) in cases {
                let response = try await Self.register(client, body)
                #expect(response.status == .badRequest, "\(name)")
                #expect(try response.json()["error"] as? String == error, "\(name)")
            }
            let notJSON = try await Self.register(client, ByteBuffer(string: "redirect_uris=http://127.0.0.1/cb"), contentType: "application/json")
            #expect(notJSON.status == .badRequest)
            #expect(try notJSON.json()["error"] as? String == "invalid_client_metadata")
            let huge = try await Self.register(client, ByteBuffer(repeating: UInt8(ascii: " "), count: 1_000_000))
            #expect(huge.status == .badRequest)
            #expect(try huge.json()["error"] as? String == "invalid_client_metadata")
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
    }

    /// `off` offers no endpoint; `open` registers confidential web apps with a secret.
    @Test func thePolicyDecidesWhoMayRegister() async throws {
        try await withTestApp(extra: ["GATEHOUSE_DYNAMIC_REGISTRATION": "off"]) { (client, scratch) async throws -> Void in
            #expect(try await Self.register(client, Self.native).status == .notFound)
            #expect(try await client.execute(uri: "/.well-known/openid-configuration", method: .get).json()["registration_endpoint"] == nil)
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
        try await withTestApp(extra: ["GATEHOUSE_DYNAMIC_REGISTRATION": "open"]) { (client, _) async throws -> Void in
            let web: [String: Any] = ["redirect_uris": ["https://web.example.com/cb"], "client_name": "Web App", "client_uri": "https://web.example.com"]
            let body = try await Self.register(client, web).json()
            let id = try #require(body["client_id"] as? String)
            let secret = try #require(body["client_secret"] as? String)
            #expect(body["token_endpoint_auth_method"] as? String == "client_secret_basic" && body["client_secret_expires_at"] as? Int == 0)
            let app = TestApp(clientID: id, secret: secret, redirectURI: "https://web.example.com/cb")
            var browser = Browser()
            #expect(try await browser.tokens(client, app: app, scope: "files:read")["access_token"] != nil)
        }
    }

    /// Self-registered apps fill at most half of the portal's limit; attempts are counted per address.
    @Test func limitsAndTheRateLimit() async throws {
        try await withTestApp(extra: ["GATEHOUSE_CLIENTS_PER_PORTAL": "4", "GATEHOUSE_REGISTRATIONS_PER_HOUR": "4",
                                      "GATEHOUSE_TRUSTED_PROXIES": "local"]) { client, scratch in
            #expect(try await Self.register(client, try jsonBody(Self.native), address: "198.51.100.7").status == .created)
            #expect(try await Self.register(client, try jsonBody(Self.native), address: "198.51.100.7").status == .created)
            let full = try await Self.register(client, try jsonBody(Self.native), address: "198.51.100.7")
            #expect(full.status == .badRequest)
            #expect(try full.json()["error"] as? String == "invalid_client_metadata")
            #expect(try await rowCount("oauth_clients", in: scratch) == 2)
            // The fourth attempt from one address is the last this hour; another /64 still may try.
            _ = try await Self.register(client, try jsonBody(Self.native), address: "198.51.100.7")
            let limited = try await Self.register(client, try jsonBody(Self.native), address: "198.51.100.7")
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] == "3600")
            _ = try await Self.register(client, try jsonBody(Self.native), address: "2001:db8:1:2::10")
            _ = try await Self.register(client, try jsonBody(Self.native), address: "2001:db8:1:2::11")
            _ = try await Self.register(client, try jsonBody(Self.native), address: "2001:db8:1:2:ffff::1")
            _ = try await Self.register(client, try jsonBody(Self.native), address: "2001:db8:1:2::12")
            #expect(try await Self.register(client, try jsonBody(Self.native), address: "2001:db8:1:2::13").status == .tooManyRequests)
            #expect(try await Self.register(client, try jsonBody(Self.native), address: "2001:db8:1:3::1").status != .tooManyRequests)
            #expect(try await rowCount("oauth_clients", in: scratch) == 2)
        }
    }

    /// Developer Tools shows them as registered by themselves, to admins only; an admin's edit keeps
    /// the relaxed rules; housekeeping removes those never used within a day.
    @Test func adminsManageThemAndHousekeepingRemovesUnusedOnes() async throws {
        try await withTestApp { client, scratch in
            let used = try #require(try await Self.register(client, Self.native).json()["client_id"] as? String)
            let unused = try #require(try await Self.register(client, Self.native).json()["client_id"] as? String)
            let formApp = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let list = try await browser.get(client, "/developer-tools/oauth")
            #expect(list.text.contains("Registered by the app itself") && list.text.contains("self-registered"))
            let portal = try await portalToken(client)
            let edited = try await api(client, .put, "/api/2.0/clients/\(used)", token: portal, json: ["name": "Renamed by admin"])
            #expect(edited.status == .ok)
            #expect(try edited.json()["registered_by"] as? String == "app" && (try edited.json()["id"] as? String) == used)
            #expect(try edited.json()["is_public"] as? Bool == true)
            try await addPerson(scratch, email: "bob@example.com", role: .user)
            let bob = try await portalToken(client, email: "bob@example.com", password: "person-password-1")
            #expect(try await api(client, .get, "/api/2.0/clients/\(used)", token: bob).status == .notFound)
            // One of them is used: a grant is opened for it.
            let pkce = PKCEPair.make()
            _ = try await browser.authorize(client, authorizePath([
                "response_type": "code", "client_id": used, "redirect_uri": "http://127.0.0.1:40000/callback", "scope": "openid",
                "code_challenge": pkce.challenge, "code_challenge_method": "S256",
            ]))
            let report = try await scratch.inspect { database in
                try await SQLHousekeeping(database: database).sweep(now: Date().addingTimeInterval(2 * 86_400)) {}
            }
            #expect(report.deleted["oauth_clients"] == 1)
            let left = try await scratch.inspect { database in
                try await database.read { sql in
                    try await sql.raw("SELECT client_id FROM oauth_clients ORDER BY client_id").all().map { try $0.decode(column: "client_id", as: String.self) }
                }
            }
            #expect(Set(left) == [used, formApp.clientID])
            #expect(!left.contains(unused))
        }
    }
}
