import Foundation
import GatehouseApp
import GatehouseTestSupport
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@Suite struct OperationsTests {
    @Test(arguments: TestDatabaseKind.available)
    func healthReportsTheDatabase(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, _ in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(try response.json()["database"] as? String == "ok")
        }
    }

    #if canImport(Glibc)
    /// glibc takes the 64 MiB thresholds (it refuses values it cannot honour), and an operator's own
    /// `MALLOC_*` setting is left alone.
    @Test func mallocTuningIsTakenUnlessTheOperatorSetItsOwn() {
        #expect(MallocTuning.apply(environment: [:]))
        #expect(!MallocTuning.apply(environment: ["MALLOC_MMAP_THRESHOLD_": "131072"]))
        #expect(!MallocTuning.apply(environment: ["MALLOC_TRIM_THRESHOLD_": "131072"]))
    }
    #endif

    @Test func metricsCountRequestsByRouteAndStatus() async throws {
        try await withTestApp { client, _ in
            _ = try await client.execute(uri: "/login", method: .get)
            _ = try await client.execute(uri: "/api/2.0/nothing", method: .get)
            let response = try await client.execute(uri: "/metrics", method: .get, headers: metricsHeaders)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = response.text
            #expect(text.contains("http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 1"))
            #expect(text.contains("status=\"404\""))
            #expect(text.contains("http_request_duration_seconds_bucket"))
        }
    }

    /// The admin page of the audit log, with the API's filters; not for non-admins.
    @Test func theAuditLogPageFiltersForAdmins() async throws {
        try await withTestApp { client, scratch in
            let first = try await registerApp(client)
            let second = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let all = try await browser.get(client, "/developer-tools/oauth/audit")
            #expect(all.status == .ok)
            #expect(all.text.contains(first.clientID) && all.text.contains(second.clientID))
            let one = try await browser.get(client, "/developer-tools/oauth/audit?client_id=\(first.clientID)&action=created")
            #expect(one.text.contains(first.clientID) && !one.text.contains(second.clientID))
            #expect(try await browser.get(client, "/developer-tools/oauth/audit?action=exploded").status == .badRequest)
            try await addPerson(scratch, email: "user@example.com", role: .user)
            var user = Browser()
            _ = try await user.signIn(client, email: "user@example.com", password: "person-password-1")
            #expect(try await user.get(client, "/developer-tools/oauth/audit").status == .forbidden)
        }
    }

    /// Issue 6: authorize outcomes, tokens by grant and app, and the database pool's use and latency.
    @Test func metricsShowAuthorizeOutcomesTokensAndTheDatabase() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.tokens(client, app: app)  // consent shown, then a code
            _ = try await browser.get(client, authorizePath(["response_type": "code", "client_id": app.clientID,
                                                             "redirect_uri": app.redirectURI, "scope": "openid", "prompt": "bogus"]))
            let text = try await client.execute(uri: "/metrics", method: .get, headers: metricsHeaders).text
            #expect(text.contains("oauth_authorize_outcomes_total{outcome=\"consent\",error=\"\"} 1"))
            #expect(text.contains("oauth_authorize_outcomes_total{outcome=\"code\",error=\"\"} 1"))
            #expect(text.contains("outcome=\"error_redirect\""))
            #expect(text.contains("oauth_tokens_issued_total{grant_type=\"authorization_code\",client_id=\"\(app.clientID)\"} 1"))
            #expect(text.contains("database_operation_duration_seconds_bucket{kind=\"read\""))
            #expect(text.contains("database_operation_duration_seconds_bucket{kind=\"write\""))
            // The revocation poller reads the database every second, so an operation may be in flight
            // during one scrape; between its reads the gauge is back at 0.
            var idle = text.contains("database_operations_in_progress 0")
            for _ in 0..<20 where !idle {
                try await Task.sleep(for: .milliseconds(50))
                idle = try await client.execute(uri: "/metrics", method: .get, headers: metricsHeaders).text.contains("database_operations_in_progress 0")
            }
            #expect(idle)
        }
    }

    @Test func aSessionMadeByOneProcessWorksOnAnother() async throws {
        let scratch = try await ScratchDatabase.make(.sqlite)
        let configuration = try testConfiguration(scratch)
        let first = try await buildApplication(configuration: configuration, announce: { _ in })
        let cookies = try await first.test(.router) { client in
            var browser = Browser()
            _ = try await browser.signIn(client)
            return browser.cookies
        }
        let second = try await buildApplication(configuration: configuration, announce: { _ in })
        let status = try await second.test(.router) { client in
            var browser = Browser()
            browser.cookies = cookies
            return try await browser.get(client, "/").status
        }
        await scratch.remove()
        #expect(status == .ok)
    }
}

@Suite struct FirstStartTests {
    @Test func withoutSettingsTheOwnerIsAdminAtLocalhostWithAPrintedPassword() async throws {
        let scratch = try await ScratchDatabase.make(.sqlite)
        var configuration = try Configuration.fromEnvironment([
            "GATEHOUSE_DATA_DIR": scratch.folder, "GATEHOUSE_BCRYPT_COST": "4", "GATEHOUSE_LOG_LEVEL": "error",
        ])
        configuration.database = scratch.location
        let lines = LockedLines()
        let app = try await buildApplication(configuration: configuration, announce: { lines.append($0) })
        let printed = lines.all.joined(separator: "\n")
        let password = try #require(printed.components(separatedBy: "password: ").last?.split(separator: "\n").first)
        let status = try await app.test(.router) { client in
            var browser = Browser()
            return try await browser.signIn(client, email: "admin@localhost", password: String(password)).status
        }
        #expect(status == .seeOther)
        // The second start finds the owner and prints nothing.
        let again = LockedLines()
        let secondStart = try await buildApplication(configuration: configuration, announce: { again.append($0) })
        try await secondStart.test(.router) { _ in }
        #expect(again.all.isEmpty)
        #expect(try await rowCount("people", in: scratch) == 1)
        await scratch.remove()
    }

    @Test func usersAddValidatesAndStores() async throws {
        try await withScratchDatabase(.sqlite) { database, _ in
            let administration = PeopleAdministration(database: database, bcryptCost: 4)
            let person = try await administration.add(
                email: "Dev@Example.com", password: "developer-1", role: .user, firstName: "Dev", lastName: "One"
            )
            #expect(person.email == "dev@example.com")
            await #expect(throws: (any Error).self) {
                try await administration.add(email: "dev@example.com", password: "developer-2", role: .user)
            }
            await #expect(throws: (any Error).self) {
                try await administration.add(email: "x@example.com", password: "short", role: .user)
            }
            let count = try await SQLPersonStore(database: database).count()
            #expect(count == 1)
        }
    }
}

/// Lines collected from a `@Sendable` callback.
final class LockedLines: @unchecked Sendable {
    // @unchecked: `lines` is only touched under `lock`.
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
