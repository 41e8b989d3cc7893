import Foundation
import GatehouseApp
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import PortalCore
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

            try await scratch.inspect { database in
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
}
