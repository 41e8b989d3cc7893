import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OAuthCore
import PortalCore
import Testing

/// Developer tokens (SPEC §7): the `personal_access_token` grant and the app page's "Generate token"
/// and "Revoke token".
@Suite struct DeveloperTokenTests {
    static let grant = "personal_access_token"

    /// A token request with the browser's cookies: `proof` is what the browser says of where the request came from.
    static func grantRequest(_ client: any TestClientProtocol, browser: Browser, app: TestApp, scope: String?,
                             authorization: String? = nil, proof: [(String, String)] = [("Sec-Fetch-Site", "same-origin")])
        async throws -> TestResponse
    {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .authorization: authorization ?? app.basic]
        if !browser.cookies.isEmpty { headers[.cookie] = browser.cookieHeader }
        for (name, value) in proof { headers[HTTPField.Name(name)!] = value }
        var form = [("grant_type", grant)]
        if let scope { form.append(("scope", scope)) }
        return try await client.execute(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: formEncode(form)))
    }

    static func developerRows(_ scratch: ScratchDatabase) async throws -> (tokens: Int, grants: Int) {
        (try await rowCount("developer_tokens", in: scratch), try await rowCount("grants", in: scratch))
    }

    /// One token per person and app: the answer SPEC §7 names, no refresh token, its own lifetime; a
    /// new one ends the one before at once; discovery and the metrics know the grant.
    @Test(arguments: TestDatabaseKind.available)
    func theGrantIssuesOneTokenPerPersonAndApp(_ kind: TestDatabaseKind) async throws {
        try await withTestApp(kind, extra: ["GATEHOUSE_DEVELOPER_TOKEN_TTL": "7200"]) { client, scratch in
            let app = try await registerApp(client, scopes: ["files:write", "openid", "rooms:read"])
            var browser = Browser()
            _ = try await browser.signIn(client)
            // Bounds taken around the grants, not after them: a loaded machine may take seconds between.
            let started = Int64(Date().timeIntervalSince1970)
            let response = try await Self.grantRequest(client, browser: browser, app: app, scope: "files:write rooms:read")
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try response.json()
            #expect(Set(body.keys) == ["access_token", "token_type", "expires_in", "scope"])
            #expect(body["token_type"] as? String == "Bearer" && body["expires_in"] as? Int == 7200)
            #expect(body["scope"] as? String == "files:write rooms:read")
            let first = try #require(body["access_token"] as? String)
            let claims = try claims(of: first)
            #expect((claims["exp"] as? Int ?? 0) - (claims["iat"] as? Int ?? 0) == 7200)
            #expect(claims["client_id"] as? String == app.clientID)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: first).status == .ok)
            #expect(try await api(client, .get, "/api/2.0/files/rooms", token: first).status == .ok)
            // Its scopes and nothing more: the app's openid was not asked for, accounts never registered.
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: first).status == .forbidden)
            // A second one revokes the first at once.
            let second = try #require(try await Self.grantRequest(client, browser: browser, app: app, scope: "files:write").json()["access_token"] as? String)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: first).status == .unauthorized)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: second).status == .ok)
            #expect(try await Self.developerRows(scratch).tokens == 1)
            // The replaced token's revocation is remembered as long as a developer token lives, not an access token.
            let feedExpiry = try await scratch.inspect { database in
                try await database.read { sql in
                    try await sql.raw("SELECT MAX(expires_at) AS e FROM revocations WHERE kind = 'grant'").first()?.decode(column: "e", as: Int64.self)
                }
            }
            let feedLifetime: Int64 = 7200 + 60
            let latest = Int64(Date().timeIntervalSince1970) + feedLifetime + 1
            #expect((feedExpiry ?? 0) >= started + feedLifetime - 1)
            #expect((feedExpiry ?? .max) <= latest)
            let discovery = try await client.execute(uri: "/.well-known/openid-configuration", method: .get).json()
            #expect((discovery["grant_types_supported"] as? [String])?.contains(Self.grant) == true)
            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: metricsHeaders).text
            #expect(metrics.contains("oauth_tokens_issued_total{grant_type=\"personal_access_token\",client_id=\"\(app.clientID)\"} 2"))
            // RFC 7009 revocation ends it and forgets it as the person's current token.
            let revoked = try await client.execute(
                uri: "/oauth2/revoke", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .authorization: app.basic],
                body: ByteBuffer(string: formEncode([("token", second)]))
            )
            #expect(revoked.status == .ok)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: second).status == .unauthorized)
            #expect(try await Self.developerRows(scratch).tokens == 0)
        }
    }

    /// Requests at once for one person and app leave exactly one token that works (on PostgreSQL the
    /// advisory lock orders them; SQLite has one writer).
    @Test(arguments: TestDatabaseKind.available)
    func tokensMadeAtOnceLeaveOneThatWorks(_ kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let signedIn = browser
            let tokens = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await Self.grantRequest(client, browser: signedIn, app: app, scope: "files:write").json()["access_token"] as? String
                    }
                }
                return try await group.reduce(into: [String]()) { if let token = $1 { $0.append(token) } }
            }
            #expect(tokens.count == 8)
            var working = 0
            for token in tokens where try await api(client, .get, "/api/2.0/files/@my", token: token).status == .ok { working += 1 }
            #expect(working == 1)
            #expect(try await Self.developerRows(scratch).tokens == 1)
        }
    }

    /// SPEC §7: the app's creator or an admin — each alone is enough.
    @Test func anAdminWhoDidNotMakeTheAppAndAUserWhoDidBothGetTokens() async throws {
        try await withTestApp { client, scratch in
            _ = try await addPerson(scratch, email: "admin@example.com", role: .admin)
            _ = try await addPerson(scratch, email: "maker@example.com", role: .user)
            let ownersApp = try await registerApp(client)
            let makerToken = try await portalToken(client, email: "maker@example.com", password: "person-password-1")
            var body = registrationJSON()
            body["scopes"] = ["files:read"]
            let made = try await api(client, .post, "/api/2.0/clients", token: makerToken, json: body).json()
            let makersApp = TestApp(clientID: try #require(made["client_id"] as? String), secret: try #require(made["client_secret"] as? String),
                                    redirectURI: "https://app.example.com/cb")
            var admin = Browser()
            _ = try await admin.signIn(client, email: "admin@example.com", password: "person-password-1")
            var maker = Browser()
            _ = try await maker.signIn(client, email: "maker@example.com", password: "person-password-1")
            #expect(try await Self.grantRequest(client, browser: admin, app: ownersApp, scope: "openid").status == .ok)
            #expect(try await Self.grantRequest(client, browser: maker, app: makersApp, scope: "files:read").status == .ok)
            #expect(try await Self.grantRequest(client, browser: maker, app: ownersApp, scope: "openid").status == .badRequest)
            #expect(try await Self.developerRows(scratch).tokens == 2)
        }
    }

    /// The dialog's Revoke ends the token it showed, not a newer one made meanwhile (in another tab).
    @Test func theDialogRevokesOnlyTheTokenItShowed() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let path = "/developer-tools/oauth/\(app.clientID)/developer-token"
            let form = hiddenFields(try await browser.get(client, path).text).filter { $0.0 != "scope" } + [("scope", "openid")]
            let shown = try await browser.get(client, try #require(try await browser.post(client, path, form: form).headers[.location]))
            let revokeForm = hiddenFields(shown.text).filter { $0.0 == "csrf_token" || $0.0 == "grant_id" }
            #expect(revokeForm.contains { $0.0 == "grant_id" })
            let newer = try #require(try await Self.grantRequest(client, browser: browser, app: app, scope: "openid").json()["access_token"] as? String)
            let stale = try await browser.post(client, path + "/revoke", form: revokeForm)
            #expect(stale.headers[.location] == "/developer-tools/oauth/\(app.clientID)?done=no-token")
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: newer).status == .forbidden, "still valid: openid only")
            #expect(try await browser.get(client, "/developer-tools/oauth/\(app.clientID)?done=no-token").text.contains("nothing was revoked"))
        }
    }

    /// Same-origin proof may also be the page's CSRF token in a header (a script on the portal's pages).
    @Test func theCSRFHeaderIsProofEnough() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let page = try await browser.get(client, "/developer-tools/oauth/\(app.clientID)/developer-token")
            let token = try #require(csrfToken(in: page.text))
            let response = try await Self.grantRequest(client, browser: browser, app: app, scope: "openid", proof: [("X-CSRF-Token", token)])
            #expect(response.status == .ok)
            let forged = try await Self.grantRequest(client, browser: browser, app: app, scope: "openid", proof: [("X-CSRF-Token", "x" + token)])
            #expect(forged.status == .badRequest)
        }
    }

    /// Every refusal of SPEC §7 with its error, and nothing issued or written.
    @Test func refusalsIssueNothing() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client, scopes: ["files:read", "openid"], origins: ["https://app.example.com"])
            _ = try await addPerson(scratch, email: "guest@example.com", role: .guest)
            _ = try await addPerson(scratch, email: "user@example.com", role: .user)
            var owner = Browser()
            _ = try await owner.signIn(client)
            var guest = Browser()
            _ = try await guest.signIn(client, email: "guest@example.com", password: "person-password-1")
            var user = Browser()
            _ = try await user.signIn(client, email: "user@example.com", password: "person-password-1")
            let before = try await Self.developerRows(scratch)
            let wrongSecret = "Basic " + Data("\(app.clientID):not-the-secret".utf8).base64EncodedString()
            let cases: [(String, TestResponse, HTTPResponse.Status, String)] = [
                ("no session", try await Self.grantRequest(client, browser: Browser(), app: app, scope: "files:read"), .badRequest, "invalid_grant"),
                ("another site's page", try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read",
                                                                      proof: [("Origin", "https://evil.example")]), .badRequest, "invalid_grant"),
                ("a cross-site fetch", try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read",
                                                                    proof: [("Sec-Fetch-Site", "cross-site")]), .badRequest, "invalid_grant"),
                ("no proof at all", try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read", proof: []),
                 .badRequest, "invalid_grant"),
                ("an opaque origin", try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read", proof: [("Origin", "null")]),
                 .badRequest, "invalid_grant"),
                ("a same-site page", try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read",
                                                                  proof: [("Sec-Fetch-Site", "same-site")]), .badRequest, "invalid_grant"),
                ("a typed address", try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read",
                                                                 proof: [("Sec-Fetch-Site", "none")]), .badRequest, "invalid_grant"),
                ("a guest", try await Self.grantRequest(client, browser: guest, app: app, scope: "files:read"), .badRequest, "access_denied"),
                ("neither creator nor admin", try await Self.grantRequest(client, browser: user, app: app, scope: "files:read"),
                 .badRequest, "access_denied"),
                ("a scope beyond the app's", try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read files:write"),
                 .badRequest, "invalid_scope"),
                ("no scope", try await Self.grantRequest(client, browser: owner, app: app, scope: nil), .badRequest, "invalid_request"),
                ("a wrong secret", try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read", authorization: wrongSecret),
                 .unauthorized, "invalid_client"),
            ]
            for (name, response, status, error) in cases {
                #expect(response.status == status, "\(name)")
                #expect(try response.json()["error"] as? String == error, "\(name)")
                #expect(try response.json()["access_token"] == nil, "\(name)")
            }
            // Without client authentication (a public client's form): the secret is required.
            var publicHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: owner.cookieHeader]
            publicHeaders[HTTPField.Name("Sec-Fetch-Site")!] = "same-origin"
            let publicForm = formEncode([("grant_type", Self.grant), ("scope", "files:read"), ("client_id", app.clientID)])
            let noSecret = try await client.execute(uri: "/oauth2/token", method: .post, headers: publicHeaders, body: ByteBuffer(string: publicForm))
            #expect(noSecret.status == .unauthorized)
            #expect(try noSecret.json()["error"] as? String == "invalid_client")
            // CORS never allows credentials, even for the app's own origin.
            let cors = try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read",
                                                   proof: [("Origin", "https://app.example.com")])
            #expect(cors.headers[.accessControlAllowCredentials] == nil)
            #expect(cors.status == .badRequest)
            // Nor does a preflight: no credentials, and no X-CSRF-Token from another origin.
            let preflight = try await client.execute(uri: "/oauth2/token", method: .options, headers: [
                .origin: "https://app.example.com", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "X-CSRF-Token, Content-Type",
            ])
            #expect(preflight.headers[.accessControlAllowCredentials] == nil)
            #expect(!(preflight.headers[.accessControlAllowHeaders] ?? "").lowercased().contains("x-csrf-token"))
            // A disabled app.
            let portal = try await portalToken(client)
            #expect(try await api(client, .patch, "/api/2.0/clients/\(app.clientID)/activation", token: portal, json: ["status": false]).status == .ok)
            let disabled = try await Self.grantRequest(client, browser: owner, app: app, scope: "files:read")
            #expect(disabled.status == .unauthorized)
            #expect(try disabled.json()["error"] as? String == "invalid_client")
            let after = try await Self.developerRows(scratch)
            #expect(after.tokens == before.tokens && after.grants == before.grants)
        }
    }

    /// The app page: Generate token (shown once, after a redirect; the same form twice makes one),
    /// Revoke, and Revoke token with a pasted token checked to be this app's.
    @Test(arguments: TestDatabaseKind.available)
    func thePageMakesShowsOnceAndRevokes(_ kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            let app = try await registerApp(client, scopes: ["files:read", "openid"])
            let other = try await registerApp(client, scopes: ["files:read"])
            var browser = Browser()
            _ = try await browser.signIn(client)
            let path = "/developer-tools/oauth/\(app.clientID)/developer-token"
            let page = try await browser.get(client, path)
            #expect(page.status == .ok && page.text.contains("id=\"generate-token\""))
            let form = hiddenFields(page.text).filter { $0.0 != "scope" } + [("scope", "files:read")]
            let made = try await browser.post(client, path, form: form)
            #expect(made.status == .seeOther)
            let location = try #require(made.headers[.location])
            #expect(location.hasPrefix(path + "?shown="))
            // The same form again: the first one's address, no second token.
            let again = try await browser.post(client, path, form: form)
            #expect(again.headers[.location] == location)
            let shown = try await browser.get(client, location)
            let token = try #require(Self.code("developer-token", in: shown.text))
            #expect(shown.text.contains("id=\"token-created\"") && shown.text.contains("id=\"token-expires\""))
            #expect(shown.headers[.cacheControl]?.contains("no-store") == true)
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: token).status == .ok)
            // Shown once.
            #expect(Self.code("developer-token", in: try await browser.get(client, location).text) == nil)
            #expect(try await Self.developerRows(scratch).tokens == 1)
            // Revoke token: another app's token is left alone, garbage is named as such, this app's is revoked.
            let revokePath = "/developer-tools/oauth/\(other.clientID)/revoke-token"
            let revokePage = try await browser.get(client, revokePath)
            let csrf = try #require(csrfToken(in: revokePage.text))
            let foreign = try await browser.post(client, revokePath, form: [("csrf_token", csrf), ("token", token)])
            #expect(foreign.status == .badRequest && foreign.text.contains("belongs to another app"))
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: token).status == .ok)
            let junk = try await browser.post(client, revokePath, form: [("csrf_token", csrf), ("token", "not.a.token")])
            #expect(junk.status == .badRequest && junk.text.contains("not a token of this portal"))
            let ownPath = "/developer-tools/oauth/\(app.clientID)/revoke-token"
            let revoked = try await browser.post(client, ownPath, form: [("csrf_token", csrf), ("token", token)])
            #expect(revoked.status == .seeOther && revoked.headers[.location] == ownPath + "?done=revoked")
            #expect(try await browser.get(client, ownPath + "?done=revoked").text.contains("The token was revoked."))
            #expect(try await api(client, .get, "/api/2.0/files/@my", token: token).status == .unauthorized)
            // A new one, revoked with the dialog's Revoke.
            let next = try await browser.get(client, path)
            let nextForm = hiddenFields(next.text).filter { $0.0 != "scope" } + [("scope", "openid")]
            let nextShown = try await browser.get(client, try #require(try await browser.post(client, path, form: nextForm).headers[.location]))
            let nextToken = try #require(Self.code("developer-token", in: nextShown.text))
            let end = try await browser.post(client, path + "/revoke", form: [("csrf_token", try #require(csrfToken(in: nextShown.text)))])
            #expect(end.headers[.location] == "/developer-tools/oauth/\(app.clientID)?done=token-revoked")
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: nextToken).status == .unauthorized)
            #expect(try await Self.developerRows(scratch).tokens == 0)
            // Without a ticked scope: refused, nothing made.
            let empty = try await browser.get(client, path)
            let refused = try await browser.post(client, path, form: hiddenFields(empty.text).filter { $0.0 != "scope" })
            #expect(refused.status == .badRequest && refused.text.contains("Tick at least one scope"))
            #expect(try await Self.developerRows(scratch).tokens == 0)
        }
    }

    /// Someone who may not manage the app gets no page and no token from it.
    @Test func anotherPersonsAppHasNoTokenPage() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client)
            _ = try await addPerson(scratch, email: "user@example.com", role: .user)
            var user = Browser()
            _ = try await user.signIn(client, email: "user@example.com", password: "person-password-1")
            let path = "/developer-tools/oauth/\(app.clientID)/developer-token"
            #expect(try await user.get(client, path).status == .notFound)
            let page = try await user.get(client, "/developer-tools/oauth")
            let csrf = try #require(csrfToken(in: page.text))
            #expect(try await user.post(client, path, form: [("csrf_token", csrf), ("scope", "openid")]).status == .notFound)
            #expect(try await rowCount("developer_tokens", in: scratch) == 0)
        }
    }

    /// The text of `<code id="…">` in a page.
    static func code(_ id: String, in html: String) -> String? {
        guard let start = html.range(of: "<code id=\"\(id)\">") else { return nil }
        let rest = html[start.upperBound...]
        return rest.range(of: "</code>").map { String(rest[..<$0.lowerBound]) }
    }
}
