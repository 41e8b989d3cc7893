import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct AuthenticationAPITests {
    /// `from` names the client address through `X-Forwarded-For` (the test app trusts its own peer, `local`, as a proxy).
    static let resourceMetadata = "http://127.0.0.1:8080/.well-known/oauth-protected-resource/api/2.0"

    func signIn(_ client: any TestClientProtocol, userName: String = ownerEmail, password: String = ownerPassword, from address: String? = nil)
        async throws -> TestResponse
    {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let address { headers[HTTPField.Name("X-Forwarded-For")!] = address }
        return try await client.execute(
            uri: "/api/2.0/authentication", method: .post, headers: headers, body: try jsonBody(["userName": userName, "password": password])
        )
    }

    @Test(arguments: TestDatabaseKind.available)
    func aPortalTokenActsAsThePerson(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, _ in
            let response = try await signIn(client)
            #expect(response.status == .ok)
            let envelope = try response.json()
            let body = try #require(envelope["response"] as? [String: Any])
            let token = try #require(body["token"] as? String)
            let expires = try #require(body["expires"] as? String)
            #expect(ISO8601DateFormatter().date(from: expires) != nil)
            #expect(envelope["statusCode"] as? Int == 200)

            let me = try await client.execute(uri: "/api/2.0/people/@self", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(me.status == .ok)
            let profile = try #require(try me.json()["response"] as? [String: Any])
            #expect(profile["email"] as? String == ownerEmail)
            #expect(profile["role"] as? String == "owner")
        }
    }

    @Test func withoutATokenThePersonAPIIs401() async throws {
        try await withTestApp { client, _ in
            let none = try await client.execute(uri: "/api/2.0/people/@self", method: .get)
            #expect(none.status == .unauthorized)
            // RFC 9728 §5.1: a client given only the API's address learns where its authorization server is.
            #expect(none.headers[.wwwAuthenticate] == "Bearer realm=\"gatehouse\", resource_metadata=\"\(Self.resourceMetadata)\"")
            let bogus = try await client.execute(
                uri: "/api/2.0/people/@self", method: .get, headers: [.authorization: "Bearer not-a-real-token"]
            )
            #expect(bogus.status == .unauthorized)
            // SPEC §4: the portal API answers errors in DocSpace's envelope, with the RFC 6750 challenge.
            #expect(bogus.headers[.contentType] == "application/json")
            #expect(bogus.headers[.wwwAuthenticate] == "Bearer realm=\"gatehouse\", error=\"invalid_token\", resource_metadata=\"\(Self.resourceMetadata)\"")
            // The document it names says where to go.
            let metadata = try await client.execute(uri: "/.well-known/oauth-protected-resource/api/2.0", method: .get)
            #expect(metadata.status == .ok && metadata.headers[.accessControlAllowOrigin] == "*")
            let document = try metadata.json()
            #expect(document["resource"] as? String == "http://127.0.0.1:8080/api/2.0")
            #expect(document["authorization_servers"] as? [String] == ["http://127.0.0.1:8080"])
            #expect(document["bearer_methods_supported"] as? [String] == ["header"])
            #expect(document["resource_name"] is String)
            #expect((document["scopes_supported"] as? [String])?.contains("files:read") == true)
            #expect((document["scopes_supported"] as? [String])?.contains("openid") == false)
            let body = try JSONSerialization.jsonObject(with: Data(buffer: bogus.body)) as? [String: Any]
            #expect(body?["statusCode"] as? Int == 401)
            #expect((body?["error"] as? [String: Any])?["message"] is String)
        }
    }

    @Test func unknownEmailAndWrongPasswordAreTheSame401() async throws {
        try await withTestApp { client, scratch in
            let wrongPassword = try await signIn(client, password: "wrong-password")
            let unknown = try await signIn(client, userName: "nobody@example.com")
            #expect(wrongPassword.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(try wrongPassword.json()["detail"] as? String == (try unknown.json()["detail"] as? String))
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test(arguments: [
        ("{\"userName\": ", "application/json", 400),
        ("not json at all", "application/json", 400),
        ("{\"userName\": 5, \"password\": \"x\"}", "application/json", 400),
        ("{\"userName\": \"a@b.c\"}", "application/json", 400),
        ("[]", "application/json", 400),
        ("{\"userName\": \"a@b.c\", \"password\": \"x\"}", "text/plain", 415),
        ("userName=a&password=b", "application/x-www-form-urlencoded", 415),
    ])
    func badBodiesAreRefusedAsProblems(body: String, contentType: String, status: Int) async throws {
        try await withTestApp { client, scratch in
            let response = try await client.execute(
                uri: "/api/2.0/authentication", method: .post, headers: [.contentType: contentType],
                body: ByteBuffer(string: body)
            )
            #expect(response.status.code == status)
            #expect(response.headers[.contentType] == "application/problem+json")
            let problem = try response.json()
            #expect(problem["status"] as? Int == status)
            #expect((problem["detail"] as? String)?.isEmpty == false)
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test func aMissingContentTypeIs415() async throws {
        try await withTestApp { client, _ in
            let response = try await client.execute(
                uri: "/api/2.0/authentication", method: .post, body: ByteBuffer(string: "{}")
            )
            #expect(response.status == .unsupportedMediaType)
        }
    }

    @Test func overlongCredentialsAre400AndCountNoFailure() async throws {
        try await withTestApp { client, scratch in
            let email = try await signIn(client, userName: String(repeating: "e", count: 251) + "@x.io")
            let password = try await signIn(client, password: String(repeating: "p", count: 1025))
            #expect(email.status == .badRequest)
            #expect(password.status == .badRequest)
            #expect(try await rowCount("sign_in_failures", in: scratch) == 0)
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test func failuresAreThrottledPerClientAddressAcrossAccounts() async throws {
        try await withTestApp { client, _ in
            for index in 0..<20 {
                let response = try await signIn(client, userName: "guess\(index)@example.com", password: "guess")
                #expect(response.status == .unauthorized)
            }
            let throttled = try await signIn(client)
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] != nil)
        }
    }

    /// Issue 19: 100 wrong passwords at once for one account from one address check no more passwords
    /// than the limit for that account and address (each 401 is a password checked; the rest are
    /// refused before bcrypt); the owner signing in from another address meanwhile is not locked out.
    @Test(arguments: TestDatabaseKind.available)
    func concurrentWrongPasswordsCheckNoMoreThanTheLimit(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind, extra: ["GATEHOUSE_TRUSTED_PROXIES": "local"]) { client, _ in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await self.signIn(client, password: "not-the-password", from: "203.0.113.9").status }
                }
                var statuses: [HTTPResponse.Status] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            let checked = statuses.filter { $0 == .unauthorized }.count
            #expect(checked == 5, "the limit for one account from one address, never more, however many arrive at once")
            // The rest: throttled (429), or refused before even queueing for bcrypt when more than the
            // process checks at once are waiting (503, PasswordCheckQueue).
            #expect(statuses.filter { $0 == .tooManyRequests || $0 == .serviceUnavailable }.count == 100 - checked)
            // The guessing address waits out its window, even with the right password; the owner elsewhere signs in.
            #expect(try await signIn(client, from: "203.0.113.9").status == .tooManyRequests)
            #expect(try await signIn(client, from: "198.51.100.7").status == .ok)
        }
    }

    /// Five failures for an email crafted to look like the owner's key from another address do not
    /// lock the owner out there.
    @Test func aCraftedEmailCannotFillAnotherPairsCount() async throws {
        try await withTestApp(extra: ["GATEHOUSE_TRUSTED_PROXIES": "local"]) { client, _ in
            for _ in 0..<5 {
                let response = try await signIn(client, userName: ownerEmail + " address:198.51.100.7", password: "guess", from: "203.0.113.1")
                #expect(response.status == .unauthorized)
            }
            #expect(try await signIn(client, from: "198.51.100.7").status == .ok)
        }
    }

    /// Guessing one account from many addresses meets the account's own limit (50 in the window).
    @Test func guessesSpreadOverAddressesMeetTheAccountsLimit() async throws {
        try await withTestApp(extra: ["GATEHOUSE_TRUSTED_PROXIES": "local"]) { client, scratch in
            for index in 0..<50 {
                #expect(try await signIn(client, password: "guess-\(index)", from: "192.0.2.\(index + 1)").status == .unauthorized)
            }
            let refused = try await signIn(client, from: "198.51.100.7")
            #expect(refused.status == .tooManyRequests && refused.headers[.retryAfter] != nil)
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test func anUnsupportedMethodIs405WithAllow() async throws {
        try await withTestApp { client, scratch in
            let response = try await client.execute(uri: "/api/2.0/authentication", method: .delete)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "POST")
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(try await rowCount("sessions", in: scratch) == 0)
        }
    }

    @Test func anUnknownPathIs404Problem() async throws {
        try await withTestApp { client, _ in
            let response = try await client.execute(uri: "/api/2.0/nothing-here", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        try await withTestApp { client, _ in
            let response = try await client.execute(
                uri: "/api/2.0/authentication", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"userName\": \"" + String(repeating: "a", count: 70_000) + "\"}")
            )
            #expect(response.status == .contentTooLarge)
        }
    }
}
