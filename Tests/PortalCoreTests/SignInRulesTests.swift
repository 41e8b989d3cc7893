import Foundation
import PortalCore
import Testing

@Suite struct LocalRedirectTests {
    @Test(arguments: [
        ("/", true), ("/developer-tools/oauth", true), ("/oauth2/authorize?client_id=a&state=b", true),
        ("//evil.example", false), ("/\\evil.example", false), ("https://evil.example/", false),
        ("javascript:alert(1)", false), ("", false), ("relative/path", false), ("/a\nb", false),
        ("/a b", false), ("/\u{7f}", false),
    ])
    func onlyLocalPathsAreFollowed(target: String, local: Bool) {
        #expect(LocalRedirect.isLocalPath(target) == local)
        #expect(LocalRedirect.resolve(target) == (local ? target : "/"))
    }

    @Test func missingTargetFallsBack() {
        #expect(LocalRedirect.resolve(nil, fallback: "/home") == "/home")
    }
}

@Suite struct SignInThrottleTests {
    let policy = SignInThrottle(perAccountAndAddressLimit: 2, perAccountLimit: 3, perAddressLimit: 5, window: 600)
    let now = Date(timeIntervalSince1970: 1_000_000)

    @Test func belowTheLimitIsAllowed() {
        let failures = [now.addingTimeInterval(-10)]
        #expect(policy.decide(failures: [failures, failures, failures], now: now) == .allowed)
    }

    @Test func atTheAccountLimitWaitsUntilTheOldestCountedFailureAges() {
        let failures = [now.addingTimeInterval(-100), now.addingTimeInterval(-50), now.addingTimeInterval(-1)]
        #expect(policy.decide(failures: [[], failures, []], now: now) == .throttled(retryAfter: 500))
    }

    @Test func theAccountAndAddressLimitIsTheTightest() {
        let failures = [now.addingTimeInterval(-100), now.addingTimeInterval(-1)]
        #expect(policy.decide(failures: [failures, failures, failures], now: now) == .throttled(retryAfter: 500))
        #expect(policy.decide(failures: [[], failures, failures], now: now) == .allowed, "the same account from another address")
    }

    @Test func failuresOutsideTheWindowDoNotCount() {
        let failures = [now.addingTimeInterval(-700), now.addingTimeInterval(-650), now.addingTimeInterval(-1)]
        #expect(policy.decide(failures: [failures, failures, []], now: now) == .allowed)
    }

    @Test func theAddressLimitHoldsAcrossAccounts() {
        let failures = (1...5).map { now.addingTimeInterval(-Double($0)) }
        #expect(policy.decide(failures: [[], [], failures], now: now) == .throttled(retryAfter: 595))
    }

    @Test func theLongerWaitWins() {
        let account = [now.addingTimeInterval(-300), now.addingTimeInterval(-2), now.addingTimeInterval(-1)]
        let address = (1...5).map { now.addingTimeInterval(-Double($0) * 10) }
        #expect(policy.decide(failures: [[], account, address], now: now) == .throttled(retryAfter: 550))
    }

    @Test func keysAreCaseInsensitiveForEmailsAndDistinct() {
        #expect(SignInThrottle.keys(email: "Ann@Example.com", address: "a") == SignInThrottle.keys(email: "ann@example.com", address: "a"))
        #expect(Set(SignInThrottle.keys(email: "a", address: "a")).count == 3)
        #expect(SignInThrottle.keys(email: "a", address: "1") != SignInThrottle.keys(email: "a", address: "2"))
    }

    /// An email made to look like another pair's key shares no key with that pair (found by a review:
    /// five failures for "owner@x address:1.2.3.4" from anywhere locked the owner out at 1.2.3.4).
    @Test(arguments: [
        ("owner@x address:1.2.3.4", "9.9.9.9", "owner@x", "1.2.3.4"),
        ("owner@x1.2", "3.4", "owner@x", "1.2.3.4"),
        ("owner@x", "1.2.3.4", "owner@x1.2", "3.4"),
        ("account:owner@x", "1", "owner@x", "1"),
    ])
    func noCraftedEmailSharesAKeyWithAnotherPair(email: String, address: String, otherEmail: String, otherAddress: String) {
        let shared = Set(SignInThrottle.keys(email: email, address: address)).intersection(SignInThrottle.keys(email: otherEmail, address: otherAddress))
        #expect(shared.isEmpty || shared == [SignInThrottle.addressKey(address)], "\(shared)")
    }
}

@Suite struct NewPersonTests {
    @Test func normalizesEmailAndNames() throws {
        let person = try NewPerson.validate(
            email: "  Ann@Example.COM ", password: "correct horse", firstName: " Ann ", lastName: "Lee", role: .user
        ).get()
        #expect(person.email == "ann@example.com")
        #expect(person.firstName == "Ann")
    }

    @Test(arguments: [
        ("not-an-email", "password1", PersonInputError.invalidEmail),
        ("a@b", "short", .invalidPassword),
        ("a@b", String(repeating: "x", count: 1025), .invalidPassword),
        (String(repeating: "a", count: 250) + "@b.cd", "password1", .invalidEmail),
        ("a b@c.d", "password1", .invalidEmail),
        ("@c.d", "password1", .invalidEmail),
        ("a@", "password1", .invalidEmail),
    ])
    func refusesBadInput(email: String, password: String, error: PersonInputError) {
        let result = NewPerson.validate(email: email, password: password, firstName: "", lastName: "", role: .user)
        #expect(throws: error) { try result.get() }
    }

    @Test func refusesOverlongNames() {
        let result = NewPerson.validate(
            email: "a@b.c", password: "password1", firstName: String(repeating: "n", count: 256), lastName: "", role: .user
        )
        #expect(throws: PersonInputError.invalidName) { try result.get() }
    }

    @Test(arguments: ["Ann\nLee", "Ann\u{0}", "Ann\u{1B}[31m", "Ann\rLee", "Ann\u{2028}Lee", "Ann\u{85}Lee"])
    func refusesNamesWithControlCharactersOrLineBreaks(name: String) {
        for (first, last) in [(name, ""), ("", name)] {
            let result = NewPerson.validate(email: "a@b.c", password: "password1", firstName: first, lastName: last, role: .user)
            #expect(throws: PersonInputError.invalidName) { try result.get() }
        }
        #expect(NewPerson.isAcceptableName("Ann-Marie O'Neil Ünal 李"))
    }

    @Test func displayNameFallsBackToEmail() {
        let now = Date()
        var person = Person(id: .generate(), email: "a@b.c", firstName: "", lastName: "", role: .guest, createdAt: now, updatedAt: now)
        #expect(person.displayName == "a@b.c")
        person.firstName = "Ann"
        person.lastName = "Lee"
        #expect(person.displayName == "Ann Lee")
        person.lastName = ""
        #expect(person.displayName == "Ann")
        person.firstName = ""
        person.lastName = "Lee"
        #expect(person.displayName == "Lee")
        person.chosenDisplayName = "Annie"
        #expect(person.displayName == "Annie")
    }

    @Test func onlyOwnersAndAdminsAdministrate() {
        #expect(Role.allCases.filter(\.isAdministrator) == [.owner, .admin])
    }
}
