import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OAuthCore
import PortalCore
import Testing
@testable import Web

/// The findings of the attack pass on the trust boundary (issue 13), each as a test: what is
/// authorized is what runs, however the path is written or whoever sends the cookie.
@Suite struct TrustBoundaryTests {
    /// The path written otherwise: `//` at each slash, a trailing `/`, `/./` at each slash, and `%2F`
    /// for each slash inside it.
    static func variants(of path: String) -> [String] {
        let slashes = path.indices.filter { path[$0] == "/" }
        var out: [String] = [path + "/"]
        for index in slashes {
            out.append(String(path[..<index]) + "//" + String(path[path.index(after: index)...]))
            out.append(String(path[..<index]) + "/./" + String(path[path.index(after: index)...]))
            if index != path.startIndex {
                out.append(String(path[..<index]) + "%2F" + String(path[path.index(after: index)...]))
            }
        }
        return out
    }

    /// What the refused calls below could have changed: rows, and rows carrying the tables' bodies.
    static func portalState(_ scratch: ScratchDatabase) async throws -> [Int] {
        try await scratch.inspect { database in
            try await database.read { session in
                var state: [Int] = []
                for query in [
                    "SELECT COUNT(*) AS n FROM folders", "SELECT COUNT(*) AS n FROM files", "SELECT COUNT(*) AS n FROM people",
                    "SELECT COUNT(*) AS n FROM room_members",
                    "SELECT COUNT(*) AS n FROM folders WHERE title IN ('x', 'Made by the table', 'Table room')",
                    "SELECT COUNT(*) AS n FROM files WHERE title IN ('x', 't.txt')",
                    "SELECT COUNT(*) AS n FROM people WHERE first_name IN ('Portal', 'Renamed')",
                ] {
                    state.append(try await session.raw("\(unsafeRaw: query)").first()?.decode(column: "n", as: Int.self) ?? -1)
                }
                return state
            }
        }
    }

    /// Finding 1 (high): every portal-API route, each single scope, each way of writing the path. A token
    /// the canonical path refuses is refused (or finds nothing) on every variant, and nothing is written.
    @Test(arguments: TestDatabaseKind.available)
    func pathVariantsNeverGrantMoreThanTheCanonicalPath(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            let user = try await addPerson(scratch, email: "user@example.com", role: .user)
            let app = try await registerApp(client, scopes: ["openid"] + PortalAPITests.apiScopes)
            let portal = try await portalToken(client)
            let my = try await PortalAPITests.myDocuments(client, token: portal)
            let file = try await PortalAPITests.upload(client, token: portal, folder: my, name: "a.txt", bytes: Array("hello".utf8))
            let room = try await PortalAPITests.createRoom(client, token: portal, title: "Room")
            let routes = PortalAPITests.routes(my: my, file: file, room: room, person: user.id.rawValue)
            var browser = Browser()
            var tokens: [String: String] = [:]
            for scope in PortalAPITests.apiScopes {
                tokens[scope] = try #require(try await browser.tokens(client, app: app, scope: scope)["access_token"] as? String)
            }
            let before = try await Self.portalState(scratch)
            var checked = 0
            for route in routes {
                for scope in PortalAPITests.apiScopes where !route.needs.contains(scope) {
                    let token = try #require(tokens[scope])
                    let canonical = try await PortalAPITests.call(client, route, token: token)
                    #expect(canonical.status == .forbidden, "\(scope) on \(route)")
                    for path in Self.variants(of: route.path) {
                        let variant = PortalAPITests.Route(method: route.method, path: path, body: route.body, needs: route.needs)
                        let response = try await PortalAPITests.call(client, variant, token: token)
                        #expect([.forbidden, .notFound, .methodNotAllowed].contains(response.status),
                                "\(scope) on \(route.method) \(path): \(response.status)")
                        checked += 1
                    }
                }
            }
            #expect(checked > 1000)
            #expect(try await Self.portalState(scratch) == before, "a refused call wrote something")

            // The three calls of the report, by name.
            let files = try #require(tokens["files:read"]), filesWrite = try #require(tokens["files:write"])
            #expect(try await api(client, .get, "/api/2.0/files//rooms", token: files).status == .forbidden)
            #expect(try await api(client, .post, "/api/2.0/files//rooms", token: filesWrite, json: ["title": "Sneaky"]).status == .forbidden)
            #expect(try await api(client, .put, "/api/2.0/files//rooms/\(room)/share", token: filesWrite,
                                  json: ["invitations": [["id": user.id.rawValue, "access": "Viewer"]]]).status == .forbidden)
            #expect(try await Self.portalState(scratch) == before)

            // Reads that are allowed answer the same on every variant that reaches the route.
            for route in routes where route.method == .get && !route.needs.isEmpty {
                let token = try #require(tokens[route.needs[0]])
                let canonical = try await PortalAPITests.call(client, route, token: token)
                for path in Self.variants(of: route.path) {
                    let response = try await api(client, .get, path, token: token)
                    #expect(response.status == canonical.status || [.forbidden, .notFound, .methodNotAllowed].contains(response.status),
                            "\(route.needs[0]) on GET \(path): \(response.status) (canonical \(canonical.status))")
                }
            }
        }
    }

    /// Finding 1: the clients API's budget counts a request however its path is written.
    @Test func theClientsBudgetCountsEveryWayOfWritingThePath() async throws {
        // A fixed clock: the budget's window never ends during the test, however long it takes.
        try await withTestApp(extra: ["GATEHOUSE_CLIENTS_API_READS_PER_MINUTE": "6"], clock: FixedTime(Date())) { client, _ in
            let portal = try await portalToken(client)
            let paths = ["/api/2.0/clients", "/api/2.0//clients", "/api/2.0/clients/", "//api/2.0/clients", "/api//2.0/clients",
                         "/api/2.0/clients//"]
            for path in paths { #expect(try await api(client, .get, path, token: portal).status == .ok, "\(path)") }
            for path in paths + ["/api/2.0//clients/consents"] {
                let refused = try await api(client, .get, path, token: portal)
                #expect(refused.status == .tooManyRequests, "\(path): \(refused.status)")
                #expect(refused.headers[.retryAfter] != nil)
            }
        }
    }

    /// Every route on the router was registered with a declaration of who may call it; a route added
    /// around the table is found.
    @Test func aRouteWithoutADeclarationIsFound() {
        let router = Router(context: AppRequestContext.self)
        router.get("/declared") { _, _ in "declared" }
        router.put("/files/{id}") { _, _ in "declared" }
        #expect(Routes.undeclared(on: router, known: [Routes.key(.get, "/declared"), Routes.key(.put, "/files/{id}")]).isEmpty)
        router.get("/sneaked-in") { _, _ in "no declaration" }
        #expect(Routes.undeclared(on: router, known: [Routes.key(.get, "/declared"), Routes.key(.put, "/files/{id}")]) == ["GET /sneaked-in"])
    }

    /// Finding 5 (low): a change to the API with only the browser's cookie needs proof that it came
    /// from the portal's own pages; a foreign origin writes nothing, uploads included.
    @Test func cookieBorneChangesFromAnotherSiteAreRefused() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let cookie = browser.cookieHeader
            let my = try await PortalAPITests.myDocuments(client, token: try await portalToken(client))
            let before = try await rowCount("folders", in: scratch)
            func create(_ extra: HTTPFields) async throws -> TestResponse {
                var headers: HTTPFields = [.cookie: cookie, .contentType: "application/json"]
                headers.append(contentsOf: extra)
                return try await client.execute(uri: "/api/2.0/files/rooms", method: .post, headers: headers,
                                                body: try jsonBody(["title": "From elsewhere"]))
            }
            let site = HTTPField.Name("Sec-Fetch-Site")!
            for headers: HTTPFields in [[.origin: "https://evil.example"], [site: "cross-site"], [site: "same-site"],
                                        [site: "cross-site", .origin: "http://localhost:8080"], [:]] {
                let refused = try await create(headers)
                #expect(refused.status == .forbidden, "\(headers)")
                #expect((try? refused.json()["statusCode"] as? Int) == 403)
            }
            var upload = ByteBuffer()
            upload.writeString("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--XyZ--\r\n")
            let filesBefore = try await rowCount("files", in: scratch)
            let refusedUpload = try await client.execute(uri: "/api/2.0/files/\(my)/upload", method: .post, headers: [
                .cookie: cookie, .origin: "https://evil.example", .contentType: "multipart/form-data; boundary=XyZ",
            ], body: upload)
            #expect(refusedUpload.status == .forbidden)
            #expect(try await rowCount("files", in: scratch) == filesBefore)
            #expect(try await rowCount("folders", in: scratch) == before)
            // The portal's own pages: same-origin fetch metadata, or the portal's own Origin.
            #expect(try await create([site: "same-origin"]).status == .created)
            #expect(try await create([.origin: "http://127.0.0.1:8080"]).status == .created)
            // Reading needs no such proof, and a bearer is not sent by a browser on its own.
            #expect(try await client.execute(uri: "/api/2.0/files/rooms", method: .get, headers: [.cookie: cookie]).status == .ok)
            let portal = try await portalToken(client)
            #expect(try await client.execute(uri: "/api/2.0/files/rooms", method: .post, headers: [
                .authorization: "Bearer \(portal)", .origin: "https://evil.example", .contentType: "application/json",
            ], body: try jsonBody(["title": "By token"])).status == .created)
        }
    }

    /// Finding 9: `/metrics` answers only the metrics token or a trusted address.
    @Test func metricsAreForTheOperator() async throws {
        try await withTestApp(extra: ["GATEHOUSE_METRICS_TOKEN": "metrics-token-0123456789", "GATEHOUSE_METRICS_ADDRESSES": "192.0.2.7"]) { client, _ in
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .forbidden)
            #expect(try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer wrong-token-0123456789"]).status == .forbidden)
            let portal = try await portalToken(client)
            #expect(try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(portal)"]).status == .forbidden)
            let allowed = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer metrics-token-0123456789"])
            #expect(allowed.status == .ok)
            #expect(allowed.text.contains("http_requests_total"))
        }
    }

    /// Finding 10: redirect URIs and origins with control, raw non-ASCII or bidi characters are refused
    /// at registration with the field named, and no app is written.
    @Test func registrationRefusesUnencodedCharacters() async throws {
        try await withTestApp { client, scratch in
            let portal = try await portalToken(client)
            for (field, value) in [("redirect_uris", ["https://a.example/\u{202E}gpj.exe"]), ("redirect_uris", ["https://a.example/c\u{01}b"]),
                                   ("allowed_origins", ["https://ex\u{E4}mple.com"]), ("redirect_uris", ["https://a.example/caf\u{E9}"])] {
                var body = registrationJSON()
                body[field] = value
                let response = try await api(client, .post, "/api/2.0/clients", token: portal, json: body)
                #expect(response.status == .badRequest)
                let errors = try #require(try response.json()["errors"] as? [[String: Any]])
                #expect(errors.first?["field"] as? String == field)
                #expect(try await rowCount("oauth_clients", in: scratch) == 0)
            }
        }
    }

    /// Finding 11: request objects, request_uri and response modes other than query are refused, back at the app.
    @Test func unsupportedAuthorizeParametersAreRefusedNotIgnored() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            for (name, value, error) in [("request", "eyJhbGciOiJub25lIn0.e30.", "request_not_supported"),
                                         ("request_uri", "https://evil.example/r", "request_uri_not_supported"),
                                         ("response_mode", "fragment", "invalid_request"), ("response_mode", "form_post", "invalid_request")] {
                let response = try await browser.get(client, authorizePath([
                    "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid",
                    "state": "st", name: value,
                ]))
                #expect(response.status == .found)
                let location = try #require(response.headers[.location])
                #expect(location.hasPrefix(app.redirectURI))
                #expect(queryItems(location)["error"] == error, "\(name)=\(value)")
                #expect(queryItems(location)["code"] == nil)
            }
            let discovery = try await client.execute(uri: "/.well-known/openid-configuration", method: .get).json()
            #expect(discovery["response_modes_supported"] as? [String] == ["query"])
        }
    }

    /// Finding 4: `max_age=0` asks for a sign-in once; the fresh sign-in satisfies it (no loop).
    @Test func maxAgeZeroIsSatisfiedByAFreshSignIn() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.code(client, app: app)
            let first = try await browser.get(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid files:read",
                "max_age": "0", "state": "st",
            ]))
            let login = try #require(first.headers[.location])
            #expect(login.hasPrefix("/login?") && login.contains("force=1"))
            let form = try await browser.get(client, login)
            let back = try #require(queryItems(login)["redirect"])
            let signedIn = try await browser.post(client, "/login", form: [
                ("csrf_token", try #require(csrfToken(in: form.text))), ("email", ownerEmail), ("password", ownerPassword), ("redirect", back),
            ])
            let next = try #require(signedIn.headers[.location])
            #expect(next.hasPrefix("/oauth2/authorize?"))
            let answer = try await browser.get(client, next)
            #expect(answer.status == .found)
            let location = try #require(answer.headers[.location])
            #expect(location.hasPrefix(app.redirectURI), "went round again: \(location)")
            #expect(queryItems(location)["code"] != nil)
        }
    }

    /// Finding 8: a token has one spelling. Its padded and high-S twins are refused on the API and by
    /// introspection, before and after the token itself is revoked.
    @Test func otherSpellingsOfATokenAreRefused() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let token = try #require(try await browser.tokens(client, app: app)["access_token"] as? String)
            let parts = token.split(separator: ".").map(String.init)
            let signature = try #require(Base64URL.decode(parts[2]).map(Array.init))
            let twins = [
                parts[0] + "." + parts[1] + "." + Base64URL.encode(ES256Twins.highS(signature)),
                parts[0] + "==." + parts[1] + "." + parts[2],
                parts[0] + "." + parts[1] + "=." + parts[2],
                parts[0] + "." + parts[1] + "." + parts[2] + "==",
            ]
            func me(_ bearer: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/api/2.0/files/@my", method: .get, headers: [.authorization: "Bearer \(bearer)"]).status
            }
            #expect(try await me(token) == .ok)
            for twin in twins {
                #expect(try await me(twin) == .unauthorized)
                #expect(try await introspect(client, app: app, token: twin)["active"] as? Bool == false)
            }
            _ = try await client.execute(uri: "/oauth2/revoke", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: app.basic],
                body: ByteBuffer(string: formEncode([("token", token)])))
            for bearer in [token] + twins { #expect(try await me(bearer) == .unauthorized) }
        }
    }

    /// Finding 2: a CSRF cookie and token taken from another person's browser, or from a page seen
    /// before signing in, are refused (403) with this person's session on sign-out, the developer-tools
    /// forms and consent; nothing changes.
    @Test func csrfTokensAreBoundToTheSessionAndTheConsentToThePerson() async throws {
        try await withTestApp { client, scratch in
            _ = try await addPerson(scratch, email: "other@example.com", role: .user)
            let app = try await registerApp(client)
            var owner = Browser()
            _ = try await owner.signIn(client)
            var other = Browser()
            _ = try await other.signIn(client, email: "other@example.com", password: "person-password-1")
            var stranger = Browser()
            let anonymousToken = try #require(csrfToken(in: try await stranger.get(client, "/login").text))
            let othersToken = try #require(csrfToken(in: try await other.get(client, "/").text))
            let ownSession = try #require(owner.cookies["gh_session"])
            let sessions = try await rowCount("sessions", in: scratch)

            for (label, csrfCookie, token) in [("another person's", other.cookies["gh_csrf"], othersToken),
                                               ("an anonymous page's", stranger.cookies["gh_csrf"], anonymousToken)] {
                var forged = Browser()
                forged.cookies = ["gh_session": ownSession, "gh_csrf": try #require(csrfCookie)]
                #expect(try await forged.post(client, "/logout", form: [("csrf_token", token)]).status == .forbidden, "\(label) sign-out")
                #expect(try await rowCount("sessions", in: scratch) == sessions)
                let delete = try await forged.post(client, "/developer-tools/oauth/\(app.clientID)/delete", form: [("csrf_token", token)])
                #expect(delete.status == .forbidden, "\(label) delete")
                #expect(try await rowCount("oauth_clients", in: scratch) == 1)
            }

            // The consent form shown to the other person, posted with the owner's session and the other's cookie.
            let query = authorizePath(["response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI,
                                       "scope": "openid files:read", "state": "s"])
            let page = try await other.get(client, query)
            #expect(page.status == .ok)
            var forged = Browser()
            forged.cookies = ["gh_session": ownSession, "gh_csrf": try #require(other.cookies["gh_csrf"])]
            let consent = try await forged.post(client, "/oauth2/authorize", form: hiddenFields(page.text) + [("consent", "allow")])
            #expect(consent.status == .forbidden)
            #expect(consent.headers[.location] == nil)
            #expect(try await rowCount("consents", in: scratch) == 0)
            #expect(try await rowCount("authorization_codes", in: scratch) == 0)
            // Each with their own cookies: both forms work.
            let allowed = try await other.post(client, "/oauth2/authorize", form: hiddenFields(page.text) + [("consent", "allow")])
            #expect(allowed.status == .found && queryItems(allowed.headers[.location] ?? "")["code"] != nil)
            #expect(try await owner.post(client, "/logout", form: [("csrf_token", try #require(csrfToken(in: try await owner.get(client, "/").text)))])
                .status == .seeOther)
        }
    }

    /// Finding 3: `/oauth2/logout` without a valid `id_token_hint` for the signed-in person asks first,
    /// with a CSRF-protected form; it redirects only with a hint whose app registered that address.
    @Test func logoutWithoutAHintAsksFirst() async throws {
        try await withTestApp { client, scratch in
            _ = try await addPerson(scratch, email: "other@example.com", role: .user)
            let app = try await registerApp(client, logoutRedirectURI: "https://app.example.com/bye")
            var other = Browser()
            let othersHint = try #require(try await {
                _ = try await other.signIn(client, email: "other@example.com", password: "person-password-1")
                return try await other.tokens(client, app: app)["id_token"] as? String
            }())
            var browser = Browser()
            _ = try await browser.signIn(client)
            let sessions = try await rowCount("sessions", in: scratch)
            let bye = "https%3A%2F%2Fapp.example.com%2Fbye"
            // No hint; a hint for someone else; a redirect without a hint.
            for query in ["", "?id_token_hint=\(othersHint)", "?client_id=\(app.clientID)"] {
                let page = try await browser.get(client, "/oauth2/logout" + query)
                #expect(page.status == .ok, "\(query)")
                #expect(!page.text.contains("Docs Sync") || query.contains("id_token_hint"), "a bare client_id names no app")
                #expect(page.text.contains("action=\"/oauth2/logout\""))
                #expect(try await rowCount("sessions", in: scratch) == sessions, "\(query) ended the session unasked")
            }
            let unhinted = try await browser.get(client, "/oauth2/logout?client_id=\(app.clientID)&post_logout_redirect_uri=\(bye)")
            #expect(unhinted.status == .badRequest && unhinted.headers[.location] == nil)
            // The confirmation needs the page's token.
            #expect(try await browser.post(client, "/oauth2/logout", form: [("confirm", "yes")]).status == .forbidden)
            #expect(try await rowCount("sessions", in: scratch) == sessions)
            let page = try await browser.get(client, "/oauth2/logout")
            let confirmed = try await browser.post(client, "/oauth2/logout", form: [
                ("csrf_token", try #require(csrfToken(in: page.text))), ("confirm", "yes"),
            ])
            #expect(confirmed.status == .ok && confirmed.headers[.location] == nil)
            #expect(try await rowCount("sessions", in: scratch) == sessions - 1)
            #expect(try await browser.get(client, "/").status == .found)
        }
    }

    /// Finding 6: when an app's registered scopes shrink, remembered consents shrink with them and a
    /// refresh answers only the scopes the app still has.
    @Test(arguments: TestDatabaseKind.available)
    func shrinkingAnAppsScopesShrinksConsentsAndRefreshes(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, _ in
            let app = try await registerApp(client, scopes: ["openid", "files:write", "accounts.self:read"])
            var browser = Browser()
            let tokens = try await browser.tokens(client, app: app, scope: "openid files:read accounts.self:read")
            #expect(Set((tokens["scope"] as? String ?? "").split(separator: " ").map(String.init)) == ["openid", "files:read", "accounts.self:read"])
            let portal = try await portalToken(client)
            let changed = try await api(client, .put, "/api/2.0/clients/\(app.clientID)", token: portal, json: ["scopes": ["openid", "files:read"]])
            #expect(changed.status == .ok)
            let consents = try await api(client, .get, "/api/2.0/clients/consents", token: portal).json()
            #expect((consents["data"] as? [[String: Any]])?.first?["scopes"] as? [String] == ["files:read", "openid"])
            let refreshed = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", try #require(tokens["refresh_token"] as? String))],
                                                   authorization: app.basic)
            #expect(refreshed.status == .ok)
            let body = try refreshed.json()
            #expect(Set((body["scope"] as? String ?? "").split(separator: " ").map(String.init)) == ["openid", "files:read"])
            let access = try #require(body["access_token"] as? String)
            #expect(try await client.execute(uri: "/api/2.0/people/@self", method: .get, headers: [.authorization: "Bearer \(access)"]).status == .forbidden)
            #expect(try await client.execute(uri: "/api/2.0/files/@my", method: .get, headers: [.authorization: "Bearer \(access)"]).status == .ok)
            // The rotated token holds the narrowed grant too: asking for the removed scope is refused.
            let again = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", try #require(body["refresh_token"] as? String)),
                                                        ("scope", "accounts.self:read")], authorization: app.basic)
            #expect(again.status == .badRequest)
            #expect(try again.json()["error"] as? String == "invalid_scope")
        }
    }

    /// A review of the boundary: a cookie whose name only looks like the `__Host-` one after Unicode
    /// white space is trimmed, or the session cookie sent twice, signs nobody in.
    @Test func lookAlikeAndRepeatedSessionCookiesSignNobodyIn() async throws {
        try await withTestApp(extra: ["GATEHOUSE_PUBLIC_URL": "https://portal.example.com"]) { client, _ in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let session = try #require(browser.cookies["__Host-gh_session"])
            func home(_ cookie: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]).status
            }
            #expect(try await home("__Host-gh_session=\(session)") == .ok)
            #expect(try await home("\u{2000}__Host-gh_session=\(session)") == .found)
            #expect(try await home("__Host-gh_session=\(session); __Host-gh_session=\(session)") == .found)
            #expect(try await home("a=1;  __Host-gh_session=\(session)\t; b") == .ok)
            #expect(try await home("gh_session=\(session)") == .found, "on https only the prefixed name counts")
        }
    }

    /// The page forms that do what the clients API does spend its budgets.
    @Test func pageFormsSpendTheClientsBudget() async throws {
        try await withTestApp(extra: ["GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE": "2"], clock: FixedTime(Date())) { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let page = try await browser.get(client, "/developer-tools/oauth/\(app.clientID)")
            let csrf = try #require(csrfToken(in: page.text))
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 {
                statuses.append(try await browser.post(client, "/developer-tools/oauth/\(app.clientID)/regenerate", form: [("csrf_token", csrf)]).status)
            }
            #expect(statuses == [.seeOther, .seeOther, .tooManyRequests])
        }
    }

    @Test func thePortalsOriginIsWrittenAsBrowsersSendIt() {
        #expect(origin(of: URL(string: "https://Portal.Example.com:443/")!) == "https://portal.example.com")
        #expect(origin(of: URL(string: "http://127.0.0.1:8080")!) == "http://127.0.0.1:8080")
        #expect(origin(of: URL(string: "http://[::1]:8080/")!) == "http://[::1]:8080")
    }
}
