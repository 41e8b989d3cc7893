import Foundation
import GatehouseApp
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import PortalCore
import Storage
import Testing

/// `gatehouse users set-password`: a lost password recovered by the operator; the person's sessions and
/// portal tokens end; bad input changes nothing.
@Suite struct PasswordRecoveryTests {
    @Test(arguments: TestDatabaseKind.available)
    func aNewPasswordEndsTheOldSessions(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            var browser = Browser()
            _ = try await browser.signIn(client)
            let portal = try await portalToken(client)
            #expect(try await browser.get(client, "/").status == .ok)
            let sessions = try await rowCount("sessions", in: scratch)
            #expect(sessions == 2)

            // Refused, and nothing changes: an unknown email, a password that breaks the rule.
            try await scratch.inspect { database in
                let administration = PeopleAdministration(database: database, bcryptCost: 4)
                await #expect(throws: PersonInputError.unknownPerson) {
                    try await administration.setPassword(email: "nobody@example.com", password: "new-password-1")
                }
                await #expect(throws: PersonInputError.invalidPassword) {
                    try await administration.setPassword(email: ownerEmail, password: "short")
                }
            }
            #expect(try await rowCount("sessions", in: scratch) == sessions)
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: portal).status == .ok)

            _ = try await scratch.inspect { database in
                try await PeopleAdministration(database: database, bcryptCost: 4).setPassword(email: " OWNER@example.com ", password: "new-password-1")
            }
            #expect(try await rowCount("sessions", in: scratch) == 0)
            #expect(try await browser.get(client, "/").status == .found, "the browser session ended")
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: portal).status == .unauthorized, "the portal token ended")
            let old = try await client.execute(uri: "/api/2.0/authentication", method: .post, headers: [.contentType: "application/json"],
                                               body: try jsonBody(["userName": ownerEmail, "password": ownerPassword]))
            #expect(old.status == .unauthorized)
            _ = try await portalToken(client, password: "new-password-1")
        }
    }

    /// A changed work factor reaches every stored hash at the person's next successful sign-in; a failed
    /// sign-in changes nothing; sessions stay.
    @Test(arguments: TestDatabaseKind.available)
    func signInRemakesAHashOfAnotherWorkFactor(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, scratch in
            func storedHash(_ email: String) async throws -> String {
                try await scratch.inspect { try #require(try await SQLPersonStore(database: $0).credentials(email: email)).passwordHash }
            }
            try await scratch.inspect { database in
                _ = try await PeopleAdministration(database: database, bcryptCost: 5).add(email: "ann@example.com", password: "ann-password-1", role: .user)
            }
            let old = try await storedHash("ann@example.com")
            #expect(old.hasPrefix("$2b$05$"))
            let wrong = try await client.execute(uri: "/api/2.0/authentication", method: .post, headers: [.contentType: "application/json"],
                                                 body: try jsonBody(["userName": "ann@example.com", "password": "not-her-password"]))
            #expect(wrong.status == .unauthorized)
            #expect(try await storedHash("ann@example.com") == old)

            let first = try await portalToken(client, email: "ann@example.com", password: "ann-password-1")
            let upgraded = try await storedHash("ann@example.com")
            #expect(upgraded.hasPrefix("$2b$04$"), "the test app's work factor is 4")
            _ = try await portalToken(client, email: "ann@example.com", password: "ann-password-1")
            #expect(try await storedHash("ann@example.com") == upgraded, "a hash of the right factor is kept")
            #expect(try await api(client, .get, "/api/2.0/people/@self", token: first).status == .ok, "sessions stay")
        }
    }
}
