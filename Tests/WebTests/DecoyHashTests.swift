import Foundation
import GatehouseTestSupport
import PortalCore
import Storage
import Testing
@testable import Web

/// An unknown email's sign-in verifies a decoy hash of a real account's work factor, so that it takes
/// as long as a wrong password for an account, also while hashes of an older work factor remain.
@Suite struct DecoyHashTests {
    @Test func theDecoyHasTheWorkFactorOfTheStoredHashes() async throws {
        try await withScratchDatabase(.sqlite) { database, _ in
            let people = SQLPersonStore(database: database)
            let decoy = DecoyHash(hasher: PasswordHasher(cost: 4), people: people)
            #expect(PasswordHasher.cost(of: try await decoy.value()) == 4, "nobody yet: the setting's work factor")
            let now = Date(unixSeconds: 1_800_000_000)
            try await people.create(
                Person(id: .generate(), email: "old@example.com", firstName: "", lastName: "", role: .user, createdAt: now, updatedAt: now),
                passwordHash: try await PasswordHasher(cost: 5).hash("an older password")
            )
            #expect(PasswordHasher.cost(of: try await decoy.value()) == 5, "the one stored hash is of work factor 5")
        }
    }
}
