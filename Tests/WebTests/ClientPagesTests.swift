import Foundation
import GatehouseTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import PortalCore
import Testing

/// A `multipart/form-data` body: text fields and at most one file.
func multipart(_ fields: [(String, String)], file: (name: String, filename: String, type: String, data: Data)? = nil)
    -> (contentType: String, body: ByteBuffer)
{
    let boundary = "gatehouse-test-\(UUID().uuidString)"
    var body = Data()
    for (name, value) in fields {
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }
    if let file {
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.type)\r\n\r\n".utf8)
        body += file.data + Data("\r\n".utf8)
    }
    body += Data("--\(boundary)--\r\n".utf8)
    return ("multipart/form-data; boundary=\(boundary)", ByteBuffer(bytes: body))
}

extension Browser {
    /// POSTs a multipart form with the browser's cookies.
    mutating func postMultipart(
        _ client: any TestClientProtocol, _ path: String, _ fields: [(String, String)],
        file: (name: String, filename: String, type: String, data: Data)? = nil
    ) async throws -> TestResponse {
        let form = multipart(fields, file: file)
        var fields = headers
        fields[.contentType] = form.contentType
        let response = try await client.execute(uri: path, method: .post, headers: fields, body: form.body)
        remember(response)
        return response
    }
}

func appFormFields(csrf: String, name: String = "Docs Sync") -> [(String, String)] {
    [
        ("csrf_token", csrf), ("name", name), ("website_url", "https://sync.example.com"),
        ("description", "Keeps documents in sync"), ("allow_pkce", "true"),
        ("redirect_uris", "https://sync.example.com/cb"), ("redirect_uris", "http://127.0.0.1:8765/cb"), ("redirect_uris", ""),
        ("allowed_origins", "https://sync.example.com"), ("scopes", "files:write"), ("scopes", "openid"),
        ("policy_url", "https://sync.example.com/privacy"), ("terms_url", "https://sync.example.com/terms"),
    ]
}

let iconFile = (name: "logo", filename: "icon.png", type: "image/png", data: TestImages.png(width: 32, height: 32))

@Suite struct ClientPagesTests {
    @Test func strangersAreSentToSignIn() async throws {
        try await withTestApp { client, _ in
            let response = try await client.execute(uri: "/developer-tools/oauth/new", method: .get)
            #expect(response.status == .found)
            #expect(response.headers[.location] == "/login?redirect=%2Fdeveloper%2Dtools%2Foauth%2Fnew")
        }
    }

    @Test func registerThroughTheFormSeeTheSecretOnceThenManage() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let form = try await browser.get(client, "/developer-tools/oauth/new")
            #expect(form.status == .ok)
            for section in ["Basic info", "Access scopes", "Support and legal info"] { #expect(form.text.contains(section)) }
            let csrf = try #require(csrfToken(in: form.text))

            // Post/Redirect/Get (SPEC §7): the app's page shows the secret once, after the redirect.
            let formToken = try #require(form.text.range(of: "name=\"form_token\" value=\"").map { String(form.text[$0.upperBound...].prefix(22)) })
            let fields = appFormFields(csrf: csrf) + [("form_token", formToken)]
            let posted = try await browser.postMultipart(client, "/developer-tools/oauth/new", fields, file: iconFile)
            #expect(posted.status == .seeOther)
            let location = try #require(posted.headers[.location])
            let id = try #require(location.split(separator: "/").last.map { String($0.prefix(36)) })
            // A double click: the browser shows the second answer, which leads to the same one view.
            let doubled = try await browser.postMultipart(client, "/developer-tools/oauth/new", fields, file: iconFile)
            #expect(doubled.status == .seeOther && doubled.headers[.location] == location)
            #expect(try await rowCount("oauth_clients", in: scratch) == 1)
            let created = try await browser.get(client, location)
            #expect(created.status == .ok)
            #expect(created.headers[.cacheControl] == "no-store")
            #expect(created.text.contains("id=\"client-secret\""))
            #expect(created.text.contains("will not be shown again"))
            #expect(try await rowCount("oauth_clients", in: scratch) == 1)
            // Once: the same address again shows no secret; the same form sent again makes no second app.
            #expect(!(try await browser.get(client, location)).text.contains("id=\"client-secret\""))
            let again = try await browser.postMultipart(client, "/developer-tools/oauth/new", fields, file: iconFile)
            #expect(again.status == .seeOther && again.headers[.location] == location)
            #expect(try await rowCount("oauth_clients", in: scratch) == 1)
            // A view opens only on the page it was made for.
            let other = try await registerApp(client)
            let regeneratedHere = try await browser.post(client, "/developer-tools/oauth/\(id)/regenerate", form: [("csrf_token", csrf)])
            let view = try #require(regeneratedHere.headers[.location]?.components(separatedBy: "shown=").last?.components(separatedBy: "&").first)
            #expect(!(try await browser.get(client, "/developer-tools/oauth/\(other.clientID)?shown=\(view)")).text.contains("id=\"client-secret\""))
            // Another session cannot read the view.
            let regenerated = try await browser.post(client, "/developer-tools/oauth/\(id)/regenerate", form: [("csrf_token", csrf)])
            var stranger = Browser()
            _ = try await stranger.signIn(client)
            #expect(!(try await stranger.get(client, try #require(regenerated.headers[.location]))).text.contains("id=\"client-secret\""))

            let details = try await browser.get(client, "/developer-tools/oauth/\(id)")
            #expect(details.status == .ok)
            #expect(!details.text.contains("id=\"client-secret\""))
            let list = try await browser.get(client, "/developer-tools/oauth")
            #expect(list.text.contains("Docs Sync"))
            #expect(list.text.contains(id))

            // Edit keeps the icon when no file is chosen.
            let edited = try await browser.postMultipart(client, "/developer-tools/oauth/\(id)", appFormFields(csrf: csrf, name: "Docs Sync Pro"))
            #expect(edited.status == .seeOther)
            let saved = try await browser.get(client, try #require(edited.headers[.location]))
            #expect(saved.text.contains("Docs Sync Pro") && saved.text.contains("Your changes were saved."))

            let regeneratedAgain = try await browser.post(client, "/developer-tools/oauth/\(id)/regenerate", form: [("csrf_token", csrf)])
            #expect(regeneratedAgain.status == .seeOther)
            #expect(try await browser.get(client, try #require(regeneratedAgain.headers[.location])).text.contains("id=\"client-secret\""))

            let disabled = try await browser.post(client, "/developer-tools/oauth/\(id)/activation", form: [("csrf_token", csrf), ("status", "false")])
            #expect(disabled.status == .seeOther)
            #expect(try await browser.get(client, "/developer-tools/oauth/\(id)").text.contains("id=\"app-status\">Disabled"))

            let confirm = try await browser.get(client, "/developer-tools/oauth/\(id)/delete")
            #expect(confirm.text.contains("confirm-delete"))
            let deleted = try await browser.post(client, "/developer-tools/oauth/\(id)/delete", form: [("csrf_token", csrf)])
            #expect(deleted.status == .seeOther)
            #expect(try await rowCount("oauth_clients", in: scratch) == 1, "only the other app of the view test is left")
        }
    }

    @Test func aRefusedFormShowsErrorsByTheirFieldsKeepsInputAndWritesNothing() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let csrf = try #require(csrfToken(in: try await browser.get(client, "/developer-tools/oauth/new").text))
            var fields = appFormFields(csrf: csrf, name: "ab")
            fields.append(("allowed_origins", "https://sync.example.com/with/path"))
            let big = (name: "logo", filename: "big.png", type: "image/png", data: TestImages.png(width: 64, height: 64))
            let response = try await browser.postMultipart(client, "/developer-tools/oauth/new", fields, file: big)
            #expect(response.status == .badRequest)
            #expect(response.text.contains("id=\"error-name\""))
            #expect(response.text.contains("id=\"error-logo\""))
            #expect(response.text.contains("id=\"error-allowed_origins\""))
            // The fields the summary names are marked invalid and point at their messages; the others are not.
            #expect(response.text.contains("aria-invalid=\"true\" aria-describedby=\"error-name\""))
            #expect(response.text.contains("aria-invalid=\"true\" aria-describedby=\"error-logo\""))
            #expect(response.text.contains("aria-invalid=\"true\" aria-describedby=\"error-allowed_origins\""))
            #expect(!response.text.contains("aria-describedby=\"error-website_url\""))
            #expect(response.text.contains("id=\"error-summary\""))
            #expect(response.text.contains("value=\"ab\""))
            #expect(response.text.contains("value=\"https://sync.example.com/cb\""))
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)

            let renamed = (name: "logo", filename: "icon.svg", type: "image/svg+xml", data: TestImages.png(width: 32, height: 32))
            let mismatch = try await browser.postMultipart(client, "/developer-tools/oauth/new", appFormFields(csrf: csrf), file: renamed)
            #expect(mismatch.status == .badRequest)
            #expect(mismatch.text.contains("id=\"error-logo\""))
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
    }

    @Test func formsWithoutCSRFAreRefused() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            _ = try await browser.get(client, "/developer-tools/oauth/new")
            let response = try await browser.postMultipart(
                client, "/developer-tools/oauth/new", Array(appFormFields(csrf: "forged").dropFirst()), file: iconFile
            )
            #expect(response.status == .forbidden)
            #expect(try await rowCount("oauth_clients", in: scratch) == 0)
        }
    }

    @Test func othersAppsAreNotFoundAndGuestsCannotRegister() async throws {
        try await withTestApp { client, scratch in
            try await addPerson(scratch, email: "bob@example.com", role: .user)
            try await addPerson(scratch, email: "gus@example.com", role: .guest)
            var owner = Browser()
            _ = try await owner.signIn(client)
            let csrf = try #require(csrfToken(in: try await owner.get(client, "/developer-tools/oauth/new").text))
            let created = try await owner.postMultipart(client, "/developer-tools/oauth/new", appFormFields(csrf: csrf), file: iconFile)
            let id = try #require(created.headers[.location]?.split(separator: "/").last.map { String($0.prefix(36)) })

            var bob = Browser()
            _ = try await bob.signIn(client, email: "bob@example.com", password: "person-password-1")
            #expect(try await bob.get(client, "/developer-tools/oauth/\(id)").status == .notFound)
            let bobsCSRF = try #require(csrfToken(in: try await bob.get(client, "/developer-tools/oauth").text))
            let deleted = try await bob.post(client, "/developer-tools/oauth/\(id)/delete", form: [("csrf_token", bobsCSRF)])
            #expect(deleted.status == .notFound)
            #expect(try await rowCount("oauth_clients", in: scratch) == 1)

            var gus = Browser()
            _ = try await gus.signIn(client, email: "gus@example.com", password: "person-password-1")
            #expect(try await gus.get(client, "/developer-tools/oauth/new").status == .forbidden)
        }
    }

    /// SPEC §7's list: the empty state, then a table with Label, Creator, Last modified, Scopes and
    /// State, a row menu (token items and Auth button greyed out while disabled), and several apps
    /// enabled, disabled or deleted together (delete after a confirmation). Nothing changes for apps
    /// the person may not manage.
    @Test func theListIsATableWithAMenuAndSelection() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let empty = try await browser.get(client, "/developer-tools/oauth")
            #expect(empty.text.contains("No OAuth applications") && empty.text.contains("id=\"guide-link\"") && empty.text.contains("id=\"register-app\""))
            #expect(!empty.text.contains("id=\"app-list\""))
            let guide = try await browser.get(client, "/developer-tools/oauth/guide")
            #expect(guide.status == .ok && guide.text.contains("/oauth2/token") && guide.text.contains("/.well-known/openid-configuration"))
            let first = try await registerApp(client, scopes: ["files:read", "openid"])
            let second = try await registerApp(client, scopes: ["rooms:read"])
            let third = try await registerApp(client, scopes: ["rooms:read"])
            let page = try await browser.get(client, "/developer-tools/oauth")
            #expect(page.text.contains(">Creator</th>") && page.text.contains(">Last modified</th>") && page.text.contains(">Scopes</th>") && page.text.contains(">State</th>"))
            #expect(page.text.contains("<span class=\"tag\" title=\"View all files and folders\">files:read</span>"))
            #expect(page.text.contains("<a href=\"/settings\">Settings</a>"))
            for app in [first, second, third] {
                #expect(page.text.contains("data-client-id=\"\(app.clientID)\""))
                #expect(page.text.contains("href=\"/developer-tools/oauth/\(app.clientID)/developer-token\" class=\"menu-generate-token\""))
            }
            let csrf = try #require(csrfToken(in: page.text))
            // Disable two at once: their menus grey out the token items and the Auth button.
            let disabled = try await browser.post(client, "/developer-tools/oauth/selected", form: [
                ("csrf_token", csrf), ("action", "disable"), ("client_id", first.clientID), ("client_id", second.clientID),
            ])
            #expect(disabled.headers[.location] == "/developer-tools/oauth?done=disabled&count=2")
            let after = try await browser.get(client, "/developer-tools/oauth?done=disabled&count=2")
            #expect(after.text.contains("2 apps were disabled"))
            #expect(!after.text.contains("/developer-tools/oauth/\(first.clientID)/developer-token"))
            #expect(after.text.contains("/developer-tools/oauth/\(third.clientID)/developer-token"))
            #expect(after.text.components(separatedBy: "class=\"menu-disabled\"").count - 1 == 6)
            let portal = try await portalToken(client)
            let enabledFlags = { (id: String) async throws -> Bool? in
                try await api(client, .get, "/api/2.0/clients/\(id)", token: portal).json()["enabled"] as? Bool
            }
            #expect(try await enabledFlags(first.clientID) == false)
            #expect(try await enabledFlags(second.clientID) == false)
            #expect(try await enabledFlags(third.clientID) == true)
            _ = try await browser.post(client, "/developer-tools/oauth/selected", form: [
                ("csrf_token", csrf), ("action", "enable"), ("client_id", first.clientID),
            ])
            #expect(try await enabledFlags(first.clientID) == true)
            // Delete asks first and deletes nothing until confirmed.
            let ask = try await browser.post(client, "/developer-tools/oauth/selected", form: [
                ("csrf_token", csrf), ("action", "delete"), ("client_id", first.clientID), ("client_id", third.clientID),
            ])
            #expect(ask.status == .ok && ask.text.contains("Delete these apps?") && ask.text.contains("id=\"confirm-delete\""))
            #expect(try await rowCount("oauth_clients", in: scratch) == 3)
            let confirmed = try await browser.post(client, "/developer-tools/oauth/selected", form: hiddenFields(ask.text))
            #expect(confirmed.headers[.location] == "/developer-tools/oauth?done=deleted&count=2")
            #expect(try await rowCount("oauth_clients", in: scratch) == 1)
            // Another person's selection of these apps changes nothing.
            try await addPerson(scratch, email: "bob@example.com", role: .user)
            var bob = Browser()
            _ = try await bob.signIn(client, email: "bob@example.com", password: "person-password-1")
            let bobsCSRF = try #require(csrfToken(in: try await bob.get(client, "/developer-tools/oauth").text))
            let refused = try await bob.post(client, "/developer-tools/oauth/selected", form: [
                ("csrf_token", bobsCSRF), ("action", "disable"), ("client_id", second.clientID),
            ])
            #expect(refused.status == .notFound)
            #expect(try await enabledFlags(second.clientID) == false)
            _ = try await browser.post(client, "/developer-tools/oauth/selected", form: [("csrf_token", csrf), ("action", "enable"), ("client_id", second.clientID)])
            let bobs = try await bob.post(client, "/developer-tools/oauth/selected", form: [
                ("csrf_token", bobsCSRF), ("action", "delete"), ("confirm", "yes"), ("client_id", second.clientID),
            ])
            #expect(bobs.status == .notFound)
            #expect(try await rowCount("oauth_clients", in: scratch) == 1)
        }
    }

    /// The pages a newcomer walks through: Settings in the top bar and the breadcrumb, the home page's
    /// cards, required marks on the form, and the app page's issuer and endpoint URLs with Copy.
    @Test func settingsBreadcrumbRequiredMarksAndEndpoints() async throws {
        try await withTestApp { client, _ in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let home = try await browser.get(client, "/")
            #expect(home.text.contains("id=\"nav-settings\"") && home.text.contains("id=\"developer-tools-card\"") && home.text.contains("tile-go"))
            let settings = try await browser.get(client, "/settings")
            #expect(settings.status == .ok && settings.text.contains("id=\"settings-oauth\"") && settings.text.contains("id=\"settings-api-keys\""))
            #expect(try await client.execute(uri: "/settings", method: .get).headers[.location] == "/login?redirect=%2Fsettings")
            let form = try await browser.get(client, "/developer-tools/oauth/new")
            for label in ["App name", "Website URL", "App icon", "Redirect URLs", "Allowed origins", "Access scopes", "Privacy policy URL",
                          "Terms of Service URL"] {
                #expect(form.text.contains(label + " <span class=\"required\" aria-hidden=\"true\">*</span>"), "\(label)")
            }
            #expect(!form.text.contains("Description <span class=\"required\""))
            // No picture yet: the preview has no address at all, so no broken image shows.
            #expect(form.text.contains("<img id=\"logo-preview\" class=\"app-icon\" width=\"32\" height=\"32\" alt=\"\" hidden>"))
            let app = try await registerApp(client)
            let details = try await browser.get(client, "/developer-tools/oauth/\(app.clientID)")
            for (id, url) in [("issuer-url", "http://127.0.0.1:8080"), ("discovery-url", "http://127.0.0.1:8080/.well-known/openid-configuration"),
                              ("authorize-url", "http://127.0.0.1:8080/oauth2/authorize"), ("token-url", "http://127.0.0.1:8080/oauth2/token")] {
                #expect(details.text.contains("<code id=\"\(id)\">\(url)</code> <button type=\"button\" class=\"copy\" data-copy=\"\(id)\">Copy</button>"))
            }
            #expect(details.text.contains("<section class=\"card\" id=\"edit\">"))
        }
    }
}
