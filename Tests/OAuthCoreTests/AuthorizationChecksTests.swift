import Foundation
import OAuthCore
import Testing

/// The checks of `/oauth2/authorize` as a table: each broken request alone, with where its error goes
/// (an error page while the redirect URI cannot be trusted, the app's redirect URI afterwards) and its code.
@Suite struct AuthorizationChecksTests {
    static let clientID = "0b5c1a3e-7d2f-4c61-9a8b-2f4e6d8c0a11"
    static let disabledID = "1c6d2b4f-8e30-4d72-ab9c-3f5e7d9e1b22"
    static let redirect = "https://app.example/cb"
    static let challenge = String(repeating: "a", count: 43)
    static let resources = ResourceIndicators(issuer: "https://id.example", known: ["https://id.example/api/2.0", "https://id.example/mcp"])

    /// The apps the checks look up; an in-memory stand-in for the client store port.
    struct Apps: ClientLookup {
        func find(_ clientID: ClientID) async throws -> RegisteredClient? {
            switch clientID.rawValue {
            case AuthorizationChecksTests.clientID: client(enabled: true, redirects: [AuthorizationChecksTests.redirect])
            case AuthorizationChecksTests.disabledID: client(enabled: false, redirects: [AuthorizationChecksTests.redirect])
            default: nil
            }
        }

        func client(enabled: Bool, redirects: [String]) -> RegisteredClient {
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            return RegisteredClient(
                clientID: ClientID(rawValue: AuthorizationChecksTests.clientID),
                settings: ClientSettings(
                    name: "App", description: "", websiteURL: "https://app.example", allowPKCE: true, redirectURIs: redirects,
                    allowedOrigins: ["https://app.example"], scopes: ["openid", "files:read", "files:write"], policyURL: "https://app.example/p",
                    termsURL: "https://app.example/t", logoutRedirectURI: nil
                ),
                logoFormat: .png, logoVersion: "1", enabled: enabled, secretHash: "", createdOn: now, createdBy: "1", modifiedOn: now, modifiedBy: "1"
            )
        }
    }

    static func valid() -> [(name: String, value: String)] {
        [("client_id", clientID), ("redirect_uri", redirect), ("response_type", "code"), ("scope", "openid files:read"),
         ("state", "s1"), ("code_challenge", challenge), ("code_challenge_method", "S256")]
    }

    enum Goes: Sendable { case errorPage, redirect }

    static let broken: [(String, @Sendable ([(name: String, value: String)]) -> [(name: String, value: String)], Goes, String)] = [
        ("no client_id", { $0.filter { $0.name != "client_id" } }, .errorPage, "invalid_request"),
        ("two client_ids", { $0 + [("client_id", clientID)] }, .errorPage, "invalid_request"),
        ("unknown client", { replace($0, "client_id", "9f9f9f9f-9f9f-4f9f-9f9f-9f9f9f9f9f9f") }, .errorPage, "invalid_client"),
        ("not a uuid", { replace($0, "client_id", "app") }, .errorPage, "invalid_client"),
        ("disabled client", { replace($0, "client_id", disabledID) }, .errorPage, "invalid_client"),
        ("unregistered redirect", { replace($0, "redirect_uri", "https://evil.example/cb") }, .errorPage, "invalid_request"),
        ("redirect differs by a slash", { replace($0, "redirect_uri", redirect + "/") }, .errorPage, "invalid_request"),
        ("two redirects", { $0 + [("redirect_uri", redirect)] }, .errorPage, "invalid_request"),
        ("two states", { $0 + [("state", "x")] }, .redirect, "invalid_request"),
        ("unknown resource", { $0 + [("resource", "https://evil.example/api")] }, .redirect, "invalid_target"),
        ("resource differs by a slash", { $0 + [("resource", "https://id.example/api/2.0/")] }, .redirect, "invalid_target"),
        ("issuer as a resource", { $0 + [("resource", "https://id.example")] }, .redirect, "invalid_target"),
        ("request object", { $0 + [("request", "eyJhbGciOiJub25lIn0.e30.")] }, .redirect, "request_not_supported"),
        ("request by reference", { $0 + [("request_uri", "https://evil.example/r")] }, .redirect, "request_uri_not_supported"),
        ("fragment response mode", { $0 + [("response_mode", "fragment")] }, .redirect, "invalid_request"),
        ("form_post response mode", { $0 + [("response_mode", "form_post")] }, .redirect, "invalid_request"),
        ("no response_type", { $0.filter { $0.name != "response_type" } }, .redirect, "invalid_request"),
        ("implicit", { replace($0, "response_type", "token") }, .redirect, "unsupported_response_type"),
        ("hybrid", { replace($0, "response_type", "code id_token") }, .redirect, "unsupported_response_type"),
        ("unknown scope", { replace($0, "scope", "openid files:admin") }, .redirect, "invalid_scope"),
        ("scope not registered", { replace($0, "scope", "openid rooms:read") }, .redirect, "invalid_scope"),
        ("plain PKCE", { replace($0, "code_challenge_method", "plain") }, .redirect, "invalid_request"),
        ("challenge without method", { $0.filter { $0.name != "code_challenge_method" } }, .redirect, "invalid_request"),
        ("method without challenge", { $0.filter { $0.name != "code_challenge" } }, .redirect, "invalid_request"),
        ("short challenge", { replace($0, "code_challenge", "abc") }, .redirect, "invalid_request"),
        ("unknown prompt", { $0 + [("prompt", "select_account")] }, .redirect, "invalid_request"),
        ("none with login", { $0 + [("prompt", "none login")] }, .redirect, "invalid_request"),
        ("negative max_age", { $0 + [("max_age", "-1")] }, .redirect, "invalid_request"),
        ("max_age not a number", { $0 + [("max_age", "soon")] }, .redirect, "invalid_request"),
        ("long nonce", { $0 + [("nonce", String(repeating: "n", count: 513))] }, .redirect, "invalid_request"),
    ]

    static func replace(_ pairs: [(name: String, value: String)], _ name: String, _ value: String) -> [(name: String, value: String)] {
        pairs.map { $0.name == name ? (name, value) : $0 }
    }

    @Test(arguments: broken)
    func eachBrokenRequestIsRefusedWhereItShouldBe(
        name: String, breakIt: @Sendable ([(name: String, value: String)]) -> [(name: String, value: String)], goes: Goes, code: String
    ) async throws {
        let result = try await AuthorizationChecks.validate(AuthorizationRequest(pairs: breakIt(Self.valid())), lookup: Apps(), resources: Self.resources)
        switch (result, goes) {
        case (.success, _): Issue.record("\(name) was accepted")
        case (.failure(.errorPage(let error)), .errorPage): #expect(error.code == code, "\(name)")
        case (.failure(.redirect(let error, let uri, let state)), .redirect):
            #expect(error.code == code, "\(name)")
            #expect(uri == Self.redirect)
            #expect(state == "s1" || name == "two states")
        case (.failure(let failure), _): Issue.record("\(name) went the wrong way: \(failure)")
        }
    }

    @Test func aValidRequestIsBoundToWhatItAsked() async throws {
        let pairs = Self.valid() + [("response_mode", "query"), ("max_age", "0"), ("nonce", "n-1"), ("prompt", "login consent")]
        let result = try await AuthorizationChecks.validate(AuthorizationRequest(pairs: pairs), lookup: Apps(), resources: Self.resources)
        let validated = try result.get()
        #expect(validated.redirectURI == Self.redirect && validated.redirectURIWasGiven)
        #expect(Set(validated.scopes.names) == ["files:read", "openid"])
        #expect(validated.maxAge == 0 && validated.nonce == "n-1" && validated.prompts == ["login", "consent"])
        #expect(validated.codeChallenge == Self.challenge)
    }

    /// RFC 8707: resources may be named several times, each kept once, in order; none named is none granted.
    @Test func resourcesAreGrantedAsNamed() async throws {
        let pairs = Self.valid() + [("resource", "https://id.example/mcp"), ("resource", "https://id.example/api/2.0"), ("resource", "https://id.example/mcp")]
        let validated = try await AuthorizationChecks.validate(AuthorizationRequest(pairs: pairs), lookup: Apps(), resources: Self.resources).get()
        #expect(validated.resources == ["https://id.example/mcp", "https://id.example/api/2.0"])
        #expect(try await AuthorizationChecks.validate(AuthorizationRequest(pairs: Self.valid()), lookup: Apps(), resources: Self.resources).get().resources.isEmpty)
    }

    @Test func leftOutScopeAndRedirectComeFromTheRegistration() async throws {
        let pairs = Self.valid().filter { $0.name != "scope" && $0.name != "redirect_uri" }
        let validated = try await AuthorizationChecks.validate(AuthorizationRequest(pairs: pairs), lookup: Apps(), resources: Self.resources).get()
        #expect(validated.redirectURI == Self.redirect && !validated.redirectURIWasGiven)
        #expect(Set(validated.scopes.names) == ["openid", "files:read", "files:write"])
    }
}
