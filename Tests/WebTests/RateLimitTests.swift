import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OAuthCore
import Testing

/// Issue 6's budgets: the clients API per person (POST, changes, reads) and the token endpoint per
/// app, each refused with 429 and `Retry-After`, writing nothing, and open again in the next window.
@Suite struct RateLimitTests {
    @Test func clientsAPIBudgetsPerPerson() async throws {
        let clock = FixedTime(Date(timeIntervalSince1970: 1_899_999_980))  // 20 s into a minute
        let limits = ["GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE": "3", "GATEHOUSE_CLIENTS_API_READS_PER_MINUTE": "5",
                      "GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE": "15"]
        try await withTestApp(extra: limits, clock: clock) { client, scratch in
            let token = try await portalToken(client)
            for _ in 0..<3 {
                #expect(try await api(client, .post, "/api/2.0/clients", token: token, json: registrationJSON()).status == .created)
            }
            let refused = try await api(client, .post, "/api/2.0/clients", token: token, json: registrationJSON())
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "40")
            #expect(try await rowCount("oauth_clients", in: scratch) == 3)
            for _ in 0..<5 { #expect(try await api(client, .get, "/api/2.0/clients", token: token).status == .ok) }
            #expect(try await api(client, .get, "/api/2.0/clients", token: token).status == .tooManyRequests)
            // Another person has budgets of their own.
            try await addPerson(scratch, email: "other@example.com", role: .user)
            let other = try await portalToken(client, email: "other@example.com", password: "person-password-1")
            #expect(try await api(client, .get, "/api/2.0/clients", token: other).status == .ok)
            clock.advance(by: 40)
            #expect(try await api(client, .get, "/api/2.0/clients", token: token).status == .ok)
            #expect(try await api(client, .post, "/api/2.0/clients", token: token, json: registrationJSON()).status == .created)
        }
    }

    @Test func tokenEndpointBudgetPerApp() async throws {
        let clock = FixedTime(Date(timeIntervalSince1970: 1_900_000_020))  // the start of a minute
        try await withTestApp(extra: ["GATEHOUSE_TOKEN_REQUESTS_PER_MINUTE": "2"], clock: clock) { client, scratch in
            let app = try await registerApp(client)
            var browser = Browser()
            let tokens = try await browser.tokens(client, app: app)  // one token request
            let refresh = try #require(tokens["refresh_token"] as? String)
            let second = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", refresh)], authorization: app.basic)
            #expect(second.status == .ok)
            let rotated = try #require(try second.json()["refresh_token"] as? String)
            let refreshTokens = try await rowCount("refresh_tokens", in: scratch)
            let third = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", rotated)], authorization: app.basic)
            #expect(third.status == .tooManyRequests)
            #expect(third.headers[.retryAfter] == "60")
            #expect(try third.json()["error"] as? String == "slow_down")
            #expect(try await rowCount("refresh_tokens", in: scratch) == refreshTokens)
            clock.advance(by: 60)
            let later = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", rotated)], authorization: app.basic)
            #expect(later.status == .ok)
        }
    }
}
