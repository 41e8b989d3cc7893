import Foundation
import OAuthCore
import Testing

/// The authorize flow after validation, as a table: session or none, its age, prompt, max_age, what
/// the person allowed before, and the consent form's answer.
@Suite struct AuthorizationDecisionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func request(prompts: Set<String> = [], maxAge: Int? = nil, scopes: [String] = ["openid", "files:read"]) async throws
        -> ValidatedAuthorization
    {
        var pairs = AuthorizationChecksTests.valid().filter { $0.name != "scope" }
        pairs.append(("scope", scopes.joined(separator: " ")))
        if !prompts.isEmpty { pairs.append(("prompt", prompts.sorted().joined(separator: " "))) }
        if let maxAge { pairs.append(("max_age", String(maxAge))) }
        return try await AuthorizationChecks.validate(AuthorizationRequest(pairs: pairs), lookup: AuthorizationChecksTests.Apps(), resources: AuthorizationChecksTests.resources).get()
    }

    typealias Step = AuthorizationDecision.Step
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        var prompts: Set<String> = []
        var maxAge: Int?
        /// Seconds since the sign-in; `nil`: no session.
        var signedInAgo: Double?
        var remembered: [String]?
        var answer: String?
        let expected: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no session", signedInAgo: nil, expected: "signIn"),
        Case(name: "no session, prompt=none", prompts: ["none"], signedInAgo: nil, expected: "login_required"),
        Case(name: "session, nothing allowed yet", signedInAgo: 10, expected: "askConsent"),
        Case(name: "session, allowed before", signedInAgo: 10, remembered: ["openid", "files:read", "rooms:read"], expected: "issueCode"),
        Case(name: "allowed fewer scopes", signedInAgo: 10, remembered: ["openid"], expected: "askConsent"),
        Case(name: "allowed fewer, prompt=none", prompts: ["none"], signedInAgo: 10, remembered: ["openid"], expected: "consent_required"),
        Case(name: "allowed, prompt=consent", prompts: ["consent"], signedInAgo: 10, remembered: ["openid", "files:read"], expected: "askConsent"),
        Case(name: "prompt=login", prompts: ["login"], signedInAgo: 10, remembered: ["openid", "files:read"], expected: "signInAgain"),
        Case(name: "max_age passed", maxAge: 60, signedInAgo: 61, remembered: ["openid", "files:read"], expected: "signInAgain"),
        Case(name: "max_age kept", maxAge: 60, signedInAgo: 60, remembered: ["openid", "files:read"], expected: "issueCode"),
        Case(name: "max_age=0 after a sign-in this second", maxAge: 0, signedInAgo: 0, remembered: ["openid", "files:read"], expected: "issueCode"),
        Case(name: "max_age passed, prompt=none", prompts: ["none"], maxAge: 5, signedInAgo: 6, expected: "login_required"),
        Case(name: "allow on the form", signedInAgo: 10, answer: "allow", expected: "issueCode+remember"),
        Case(name: "allow on the form, however old the sign-in", maxAge: 1, signedInAgo: 500, answer: "allow", expected: "issueCode+remember"),
        Case(name: "deny on the form", signedInAgo: 10, answer: "deny", expected: "access_denied"),
        Case(name: "anything else on the form", signedInAgo: 10, answer: "maybe", expected: "access_denied"),
        Case(name: "form posted without a session", signedInAgo: nil, answer: "allow", expected: "signIn"),
    ]

    static func name(of step: Step) -> String {
        switch step {
        case .signIn(let force): force ? "signInAgain" : "signIn"
        case .askConsent: "askConsent"
        case .refuse(let error): error.code
        case .issueCode(let remember): remember ? "issueCode+remember" : "issueCode"
        }
    }

    @Test(arguments: cases)
    func step(of testCase: Case) async throws {
        let request = try await Self.request(prompts: testCase.prompts, maxAge: testCase.maxAge)
        let step = AuthorizationDecision.next(
            request, authenticatedAt: testCase.signedInAgo.map { Self.now.addingTimeInterval(-$0) }, remembered: testCase.remembered,
            answer: testCase.answer, now: Self.now
        )
        #expect(Self.name(of: step) == testCase.expected, "\(testCase.name)")
    }

    @Test func theCodeIsBoundToEverythingThatMatters() async throws {
        let request = try await Self.request()
        let signedIn = Self.now.addingTimeInterval(-30)
        let (code, record) = AuthorizationDecision.code(for: request, personID: "p-1", authenticatedAt: signedIn, now: Self.now, lifetime: 60)
        #expect(record.codeHash == OpaqueToken.hash(code) && record.codeHash != code)
        #expect(record.clientID == request.client.clientID && record.personID == "p-1")
        #expect(record.redirectURI == request.redirectURI && record.redirectURIWasGiven)
        #expect(record.scopes == request.scopes.names && record.codeChallenge == request.codeChallenge)
        #expect(record.authTime == signedIn && record.expiresAt == Self.now.addingTimeInterval(60) && record.consumedAt == nil)
        let (other, otherRecord) = AuthorizationDecision.code(for: request, personID: "p-1", authenticatedAt: signedIn, now: Self.now, lifetime: 60)
        #expect(other != code && otherRecord.grantID != record.grantID)
    }
}
