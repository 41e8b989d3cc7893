import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct SignInPageTests {
    @Test func theFormHasItsFieldsAndTheSecurityHeaders() async throws {
        try await withTestApp { client, _ in
            var browser = Browser()
            let page = try await browser.get(client, "/login")
            #expect(page.status == .ok)
            #expect(page.text.contains("name=\"email\""))
            #expect(page.text.contains("name=\"password\""))
            #expect(csrfToken(in: page.text) != nil)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            let csrfCookie = try #require(page.setCookieLine("gh_csrf"))
            #expect(csrfCookie.contains("HttpOnly"))
            #expect(csrfCookie.contains("SameSite=Lax"))
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func signingInStartsASessionStoredInTheDatabase(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            var browser = Browser()
            let response = try await browser.signIn(client, redirect: "/profile/authorized-apps")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/profile/authorized-apps")
            let line = try #require(response.setCookieLine("gh_session"))
            #expect(line.contains("HttpOnly"))
            #expect(line.contains("SameSite=Lax"))
            #expect(line.contains("Path=/"))
            #expect(!line.contains("Secure"))
            #expect(try await rowCount("sessions", in: scratch) == 1)
            let home = try await browser.get(client, "/")
            #expect(home.status == .ok)
            #expect(home.text.contains(ownerEmail))
        }
    }

    @Test(arguments: ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
    func anOutsideRedirectIsNotFollowed(target: String) async throws {
        try await withTestApp { client, _ in
            var browser = Browser()
            let response = try await browser.signIn(client, redirect: target)
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/")
        }
    }

    @Test func aFormWithoutTheCSRFTokenIsRefusedAndNoSessionIsWritten() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.get(client, "/login")
            let missing = try await browser.post(client, "/login", form: [("email", ownerEmail), ("password", ownerPassword)])
            #expect(missing.status == .forbidden)
            let forged = try await browser.post(
                client, "/login", form: [("csrf_token", "forged"), ("email", ownerEmail), ("password", ownerPassword)]
            )
            #expect(forged.status == .forbidden)
            #expect(missing.cookie("gh_session") == nil)
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test func aTokenFromAnotherBrowserIsRefused() async throws {
        try await withTestApp { client, scratch in
            var attacker = Browser()
            let attackerPage = try await attacker.get(client, "/login")
            let token = try #require(csrfToken(in: attackerPage.text))
            var victim = Browser()
            _ = try await victim.get(client, "/login")
            let response = try await victim.post(
                client, "/login", form: [("csrf_token", token), ("email", ownerEmail), ("password", ownerPassword)]
            )
            #expect(response.status == .forbidden)
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSameAnswer() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            let wrongPassword = try await browser.signIn(client, password: "not-the-password")
            let unknownEmail = try await browser.signIn(client, email: "nobody@example.com")
            #expect(wrongPassword.status == .unauthorized)
            #expect(unknownEmail.status == .unauthorized)
            let message = "The email or password is incorrect."
            #expect(wrongPassword.text.contains(message))
            #expect(unknownEmail.text.contains(message))
            // The form keeps what the person typed, but never the password.
            #expect(unknownEmail.text.contains("value=\"nobody@example.com\""))
            #expect(!wrongPassword.text.contains("not-the-password"))
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test func overlongFieldsAreRefused() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            let longEmail = try await browser.signIn(client, email: String(repeating: "a", count: 250) + "@b.com")
            let longPassword = try await browser.signIn(client, password: String(repeating: "p", count: 1025))
            #expect(longEmail.status == .badRequest)
            #expect(longPassword.status == .badRequest)
            #expect(try await rowCount("sessions", in: scratch) == 0)
            #expect(try await rowCount("sign_in_failures", in: scratch) == 0)
        }
    }

    @Test func aFormOfTheWrongTypeIs415() async throws {
        try await withTestApp { client, scratch in
            let response = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/json"],
                body: try jsonBody(["email": ownerEmail, "password": ownerPassword])
            )
            #expect(response.status == .unsupportedMediaType)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test func repeatedFailuresAreThrottledPerAccount() async throws {
        try await withTestApp { client, _ in
            var browser = Browser()
            for _ in 0..<5 {
                #expect(try await browser.signIn(client, password: "wrong-password").status == .unauthorized)
            }
            let throttled = try await browser.signIn(client, password: ownerPassword)
            #expect(throttled.status == .tooManyRequests)
            let retryAfter = try #require(throttled.headers[.retryAfter].flatMap(Int.init))
            #expect(retryAfter > 0 && retryAfter <= 900)
            #expect(throttled.cookie("gh_session") == nil)
        }
    }

    @Test func signingOutEndsTheSession() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let session = try #require(browser.cookies["gh_session"])
            let home = try await browser.get(client, "/")
            let token = try #require(csrfToken(in: home.text))
            let out = try await browser.post(client, "/logout", form: [("csrf_token", token)])
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/login")
            #expect(try await rowCount("sessions", in: scratch) == 0)
            // The old cookie no longer works even if a client kept it.
            browser.cookies["gh_session"] = session
            let after = try await browser.get(client, "/")
            #expect(after.status == .found)
        }
    }

    @Test func logoutWithoutCSRFIsRefused() async throws {
        try await withTestApp { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let out = try await browser.post(client, "/logout", form: [])
            #expect(out.status == .forbidden)
            #expect(try await rowCount("sessions", in: scratch) == 1)
        }
    }

    @Test func secureCookiesOnHTTPS() async throws {
        try await withTestApp(extra: ["GATEHOUSE_PUBLIC_URL": "https://portal.example.com"]) { client, _ in
            var browser = Browser()
            let page = try await browser.get(client, "/login")
            let response = try await browser.signIn(client)
            #expect(response.status == .seeOther)
            // RFC 6265bis §4.1.3.2: __Host- cookies are Secure, for Path=/ and without Domain.
            for line in [try #require(page.setCookieLine("__Host-gh_csrf")), try #require(response.setCookieLine("__Host-gh_session"))] {
                #expect(line.contains("Secure") && line.contains("Path=/") && !line.lowercased().contains("domain="), "\(line)")
            }
            #expect(response.setCookieLine("gh_session") == nil)
            // The prefixed session cookie is the one that signs the person in.
            #expect(try await browser.get(client, "/").status == .ok)
            #expect(browser.cookies["gh_session"] == nil && browser.cookies["__Host-gh_session"] != nil)
        }
    }

    @Test func theHomePageSendsStrangersToSignIn() async throws {
        try await withTestApp { client, _ in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.status == .found)
            #expect(response.headers[.location]?.hasPrefix("/login") == true)
        }
    }
}
