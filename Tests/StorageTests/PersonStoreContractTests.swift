import Foundation
import GatehouseTestSupport
import OAuthCore
import PortalCore
import Storage
import Testing

func makePerson(_ email: String, role: Role = .user, at instant: Date = Date(unixSeconds: 1_800_000_000)) -> Person {
    Person(id: .generate(), email: email, firstName: "Ann", lastName: "Lee", role: role, createdAt: instant, updatedAt: instant)
}

@Suite struct PersonStoreContractTests {
    @Test(arguments: TestDatabaseKind.available)
    func storesAndFindsPeople(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLPersonStore(database: database)
            let person = makePerson("ann@example.com", role: .admin)
            try await store.create(person, passwordHash: "hash-1")
            #expect(try await store.find(id: person.id) == person)
            let credentials = try #require(try await store.credentials(email: "ANN@example.com"))
            #expect(credentials.person == person)
            #expect(credentials.passwordHash == "hash-1")
            #expect(try await store.count() == 1)
            #expect(try await store.find(id: .generate()) == nil)
            #expect(try await store.credentials(email: "bob@example.com") == nil)
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func upgradesAHashOnlyWhileItIsTheOneVerified(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLPersonStore(database: database)
            let person = makePerson("ann@example.com")
            try await store.create(person, passwordHash: "$2b$12$old")
            #expect(try await !store.upgradePasswordHash("$2b$12$other", to: "$2b$10$new", for: person.id), "a hash changed meanwhile stays")
            #expect(try await store.credentials(email: person.email)?.passwordHash == "$2b$12$old")
            #expect(try await store.upgradePasswordHash("$2b$12$old", to: "$2b$10$new", for: person.id))
            #expect(try await store.credentials(email: person.email)?.passwordHash == "$2b$10$new")
            #expect(try await !store.upgradePasswordHash("$2b$10$new", to: "$2b$10$x", for: .generate()))
        }
    }

    @Test func aHashNeedsRemakingOnlyWhenItsWorkFactorDiffers() {
        let hasher = PasswordHasher(cost: 10)
        #expect(PasswordHasher().cost == 10, "OWASP's minimum for bcrypt")
        #expect(!hasher.needsRehash("$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"))
        #expect(hasher.needsRehash("$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"))
        #expect(hasher.needsRehash("$2a$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"))
        #expect(PasswordHasher.cost(of: "$2y$31$x") == 31)
        for unknown in ["", "plain", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "$2b$xx$abc", "$2b$10", "$2b$3$x", "$2b$32$x", "$2b$+9$x"] {
            #expect(!hasher.needsRehash(unknown), "\(unknown) is not a bcrypt hash this hasher can judge")
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func knowsWhetherThePortalHasAnOwner(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLPersonStore(database: database)
            #expect(try await !store.hasOwner())
            try await store.create(makePerson("user@example.com", role: .admin), passwordHash: "h")
            #expect(try await !store.hasOwner())
            try await store.create(makePerson("owner@example.com", role: .owner), passwordHash: "h")
            #expect(try await store.hasOwner())
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func aTakenEmailIsRefusedAndNothingIsWritten(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLPersonStore(database: database)
            try await store.create(makePerson("ann@example.com"), passwordHash: "h")
            await #expect(throws: PersonInputError.emailTaken) {
                try await store.create(makePerson("ann@example.com"), passwordHash: "other")
            }
            #expect(try await store.count() == 1)
            #expect(try await store.credentials(email: "ann@example.com")?.passwordHash == "h")
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func concurrentWritersAllLand(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLPersonStore(database: database)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask { try await store.create(makePerson("p\(index)@example.com"), passwordHash: "h") }
                }
                try await group.waitForAll()
            }
            #expect(try await store.count() == 40)
        }
    }
}

@Suite struct SessionStoreContractTests {
    @Test(arguments: TestDatabaseKind.available)
    func sessionsLiveUntilTheyExpireOrEnd(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let people = SQLPersonStore(database: database)
            let sessions = SQLSessionStore(database: database)
            let person = makePerson("ann@example.com")
            try await people.create(person, passwordHash: "h")
            let start = Date(unixSeconds: 1_800_000_000)
            let session = Session(
                tokenHash: OpaqueToken.hash("t1"), personID: person.id, kind: .browser,
                authenticatedAt: start, expiresAt: start.addingTimeInterval(3600)
            )
            try await sessions.create(session)
            let found = try #require(try await sessions.find(tokenHash: session.tokenHash, now: start))
            #expect(found.session == session)
            #expect(found.person == person)
            #expect(try await sessions.find(tokenHash: session.tokenHash, now: start.addingTimeInterval(3600)) == nil)
            #expect(try await sessions.find(tokenHash: OpaqueToken.hash("t2"), now: start) == nil)
            try await sessions.delete(tokenHash: session.tokenHash)
            #expect(try await sessions.find(tokenHash: session.tokenHash, now: start) == nil)
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func aSessionOpensOnlyWhileThePasswordIsTheOneVerified(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let people = SQLPersonStore(database: database)
            let sessions = SQLSessionStore(database: database)
            let person = makePerson("ann@example.com")
            try await people.create(person, passwordHash: "verified")
            let start = Date(unixSeconds: 1_800_000_000)
            func session(_ token: String) -> Session {
                Session(tokenHash: OpaqueToken.hash(token), personID: person.id, kind: .api, authenticatedAt: start,
                        expiresAt: start.addingTimeInterval(3600))
            }
            #expect(try await sessions.create(session("t1"), whilePasswordHashIs: "verified"))
            #expect(try await sessions.find(tokenHash: OpaqueToken.hash("t1"), now: start) != nil)
            // The password changed between the check and the session (set-password ended the others).
            #expect(try await people.setPasswordHash("changed", for: person.id, at: start))
            #expect(try await !sessions.create(session("t2"), whilePasswordHashIs: "verified"))
            #expect(try await sessions.find(tokenHash: OpaqueToken.hash("t2"), now: start) == nil, "nothing stored")
            #expect(try await !sessions.create(Session(tokenHash: OpaqueToken.hash("t3"), personID: .generate(), kind: .api,
                                                        authenticatedAt: start, expiresAt: start.addingTimeInterval(60)),
                                                whilePasswordHashIs: "changed"))
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func aSampledHashIsOneOfThePeoples(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let people = SQLPersonStore(database: database)
            #expect(try await people.samplePasswordHash() == nil)
            try await people.create(makePerson("ann@example.com"), passwordHash: "$2b$12$a")
            try await people.create(makePerson("bob@example.com"), passwordHash: "$2b$10$b")
            for _ in 0..<10 { #expect(["$2b$12$a", "$2b$10$b"].contains(try await people.samplePasswordHash())) }
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func endingAllSessionsOfAPersonLeavesOthers(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let people = SQLPersonStore(database: database)
            let sessions = SQLSessionStore(database: database)
            let ann = makePerson("ann@example.com")
            let bob = makePerson("bob@example.com")
            try await people.create(ann, passwordHash: "h")
            try await people.create(bob, passwordHash: "h")
            let start = Date(unixSeconds: 1_800_000_000)
            for (token, owner) in [("a1", ann), ("a2", ann), ("b1", bob)] {
                try await sessions.create(Session(
                    tokenHash: OpaqueToken.hash(token), personID: owner.id, kind: .api,
                    authenticatedAt: start, expiresAt: start.addingTimeInterval(60)
                ))
            }
            try await sessions.deleteAll(for: ann.id)
            #expect(try await sessions.find(tokenHash: OpaqueToken.hash("a1"), now: start) == nil)
            #expect(try await sessions.find(tokenHash: OpaqueToken.hash("a2"), now: start) == nil)
            #expect(try await sessions.find(tokenHash: OpaqueToken.hash("b1"), now: start)?.person == bob)
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func aSessionForAnUnknownPersonIsRefused(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let sessions = SQLSessionStore(database: database)
            let start = Date(unixSeconds: 1_800_000_000)
            await #expect(throws: (any Error).self) {
                try await sessions.create(Session(
                    tokenHash: "x", personID: .generate(), kind: .api, authenticatedAt: start, expiresAt: start
                ))
            }
            let count = try await database.read {
                try await $0.raw("SELECT COUNT(*) AS n FROM sessions").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 0)
        }
    }
}

@Suite struct SignInFailureStoreContractTests {
    @Test(arguments: TestDatabaseKind.available)
    func countsFailuresPerKeyWithinTheWindow(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLSignInFailureStore(database: database)
            let start = Date(unixSeconds: 1_800_000_000)
            // A failed attempt is a reservation that stays.
            _ = try await store.reserve(keys: ["account:a", "address:1"], attempt: "a1", at: start, since: .distantPast) { _ in .allowed }
            _ = try await store.reserve(keys: ["account:a"], attempt: "a2", at: start.addingTimeInterval(10), since: .distantPast) { _ in .allowed }
            #expect(try await store.failures(key: "account:a", since: start.addingTimeInterval(-1)).count == 2)
            #expect(try await store.failures(key: "account:a", since: start).count == 1)
            #expect(try await store.failures(key: "address:1", since: start.addingTimeInterval(-1)) == [start])
            try await store.clear(key: "account:a")
            #expect(try await store.failures(key: "account:a", since: .distantPast).isEmpty)
            #expect(try await store.failures(key: "address:1", since: .distantPast).count == 1)
        }
    }

    /// Concurrent attempts on one account and one address reserve at most the limits between them,
    /// whichever process or connection they come through; a released attempt frees its place.
    @Test(arguments: TestDatabaseKind.available)
    func concurrentAttemptsReserveNoMoreThanTheLimits(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLSignInFailureStore(database: database)
            let now = Date(unixSeconds: 1_800_000_000)
            let throttle = SignInThrottle.standard
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        try await store.reserve(
                            keys: SignInThrottle.keys(email: index % 2 == 0 ? "a" : "b", address: "1"), attempt: "attempt-\(index)",
                            at: now, since: throttle.windowStart(now: now)
                        ) { failures in throttle.decide(failures: failures, now: now) } == .allowed
                    }
                }
                var count = 0
                for try await one in group where one { count += 1 }
                return count
            }
            #expect(allowed == 2 * throttle.perAccountAndAddressLimit, "5 for each of the two accounts from the address, within its 20")
            let addressKey = SignInThrottle.addressKey("1")
            #expect(try await store.failures(key: addressKey, since: .distantPast).count == allowed)
            // A successful attempt gives its place back, on every key, and only its own.
            let keys = SignInThrottle.keys(email: "c", address: "2")
            let decision = try await store.reserve(keys: keys, attempt: "right-password", at: now, since: throttle.windowStart(now: now)) { _ in .allowed }
            #expect(decision == .allowed)
            for key in keys { #expect(try await store.failures(key: key, since: .distantPast).count == 1) }
            try await store.release(attempt: "right-password")
            for key in keys { #expect(try await store.failures(key: key, since: .distantPast).isEmpty) }
            #expect(try await store.failures(key: addressKey, since: .distantPast).count == allowed)
        }
    }
}
