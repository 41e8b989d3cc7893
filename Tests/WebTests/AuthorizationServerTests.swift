import Foundation
import GatehouseTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import OAuthCore
import GatehouseApp
import HTTPTypes
import Testing

@Suite struct AuthorizationServerTests {
    @Test(arguments: TestDatabaseKind.available)
    func theCodeFlowIssuesVerifiableTokens(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let pkce = PKCEPair.make()
            let code = try await browser.code(client, app: app, pkce: pkce)
            let response = try await exchange(client, app: app, code: code, pkce: pkce)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let tokens = try response.json()
            #expect(tokens["token_type"] as? String == "Bearer")
            #expect(tokens["expires_in"] as? Int == 3600)
            #expect(tokens["scope"] as? String == "files:read openid")
            let access = try #require(tokens["access_token"] as? String)
            let idToken = try #require(tokens["id_token"] as? String)
            #expect(tokens["refresh_token"] is String)

            // Signatures check out against the published JWKS, as any client would check them.
            let keys = try await publishedKeys(client).compactMap(VerificationKey.init(jwk:))
            let (accessClaims, accessHeader) = try #require(JWT.verify(access, as: AccessTokenClaims.self, keys: keys, expectedType: "at+jwt"))
            #expect(accessHeader.alg == "ES256")
            #expect(accessClaims.client_id == app.clientID)
            #expect(accessClaims.cid == app.clientID)
            #expect(accessClaims.scope == "files:read openid")
            #expect(accessClaims.exp - accessClaims.iat == 3600)
            let (idClaims, idHeader) = try #require(JWT.verify(idToken, as: IDTokenClaims.self, keys: keys))
            #expect(idHeader.alg == "RS256")
            #expect(idClaims.aud == app.clientID)
            #expect(idClaims.nonce == "n-1")
            #expect(idClaims.at_hash == TokenIssuer.atHash(access))
            #expect(idClaims.email == ownerEmail)
            #expect(idClaims.azp == app.clientID)
            // Whole seconds (NumericDate), not fractions.
            let raw = try claims(of: idToken)
            #expect(raw["exp"] is Int)

            let userinfo = try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"])
            #expect(userinfo.status == .ok)
            #expect(try userinfo.json()["email"] as? String == ownerEmail)
            #expect(try await introspect(client, app: app, token: access)["active"] as? Bool == true)
        }
    }

    @Test func discoveryListsExactlyWhatIsImplemented() async throws {
        try await withTestApp { client, _ in
            for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
                let metadata = try await client.execute(uri: path, method: .get).json()
                #expect(metadata["issuer"] as? String == "http://127.0.0.1:8080")
                #expect(metadata["response_types_supported"] as? [String] == ["code"])
                #expect(metadata["code_challenge_methods_supported"] as? [String] == ["S256"])
                #expect(metadata["grant_types_supported"] as? [String] == ["authorization_code", "refresh_token", "personal_access_token"])
                #expect(metadata["token_endpoint_auth_methods_supported"] as? [String] == ["client_secret_basic", "client_secret_post", "none"])
                #expect((metadata["scopes_supported"] as? [String])?.count == 9)
                #expect(metadata["authorization_response_iss_parameter_supported"] as? Bool == true)
                for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "introspection_endpoint",
                                 "revocation_endpoint", "end_session_endpoint"] {
                    #expect((metadata[endpoint] as? String)?.hasPrefix("http://127.0.0.1:8080/oauth2/") == true)
                }
            }
            let keys = try await publishedKeys(client)
            #expect(Set(keys.compactMap { $0["alg"] }) == ["ES256", "RS256"])
            #expect(keys.allSatisfy { $0["d"] == nil && $0["p"] == nil && $0["use"] == "sig" && $0["kid"] != nil })
        }
    }

    // MARK: authorize errors (OpenID conformance module names)

    func expectErrorPage(_ response: TestResponse) {
        #expect(response.status == .badRequest)
        #expect(response.headers[.location] == nil)
    }

    @Test func oidccEnsureRegisteredRedirectURI() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            expectErrorPage(try await browser.get(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": "https://evil.example/cb", "state": "s",
            ])))
        }
    }

    @Test func oidccRedirectURIQueryMismatchAndAdded() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client, redirectURIs: ["https://app.example.com/cb?x=1"])
            var browser = Browser()
            _ = try await browser.signIn(client)
            for uri in ["https://app.example.com/cb?x=2", "https://app.example.com/cb?x=1&y=2", "https://app.example.com/cb"] {
                expectErrorPage(try await browser.get(client, authorizePath(["response_type": "code", "client_id": app.clientID, "redirect_uri": uri])))
            }
            let other = try await registerApp(client, redirectURIs: ["https://app.example.com/cb"])
            expectErrorPage(try await browser.get(client, authorizePath([
                "response_type": "code", "client_id": other.clientID, "redirect_uri": "https://app.example.com/cb?added=1",
            ])))
        }
    }

    /// An issuer with a path (a portal behind a proxy at https://portal.example/docs): RFC 8414 §3.1's
    /// path-inserted discovery, and RFC 9728 §3.1's metadata URL, with the well-known name between
    /// host and path.
    @Test func anIssuerWithAPathIsDiscoveredTheWayRFC8414AndRFC9728Say() async throws {
        try await withTestApp(extra: ["GATEHOUSE_PUBLIC_URL": "https://portal.example/docs"]) { client, _ in
            let inserted = try await client.execute(uri: "/.well-known/oauth-authorization-server/docs", method: .get)
            #expect(inserted.status == .ok)
            #expect(try inserted.json()["issuer"] as? String == "https://portal.example/docs")
            #expect(try await client.execute(uri: "/.well-known/openid-configuration", method: .get).status == .ok)
            let refused = try await client.execute(uri: "/api/2.0/people/@self", method: .get)
            let metadataURL = "https://portal.example/.well-known/oauth-protected-resource/docs/api/2.0"
            #expect(refused.headers[.wwwAuthenticate] == "Bearer realm=\"gatehouse\", resource_metadata=\"\(metadataURL)\"")
            let metadata = try await client.execute(uri: "/.well-known/oauth-protected-resource/docs/api/2.0", method: .get)
            #expect(try metadata.json()["resource"] as? String == "https://portal.example/docs/api/2.0")
            #expect(try metadata.json()["authorization_servers"] as? [String] == ["https://portal.example/docs"])
        }
        // A path with a percent-escape keeps it, and the metadata URL is still the host's.
        try await withTestApp(extra: ["GATEHOUSE_PUBLIC_URL": "https://portal.example/my%20docs"]) { client, _ in
            let refused = try await client.execute(uri: "/api/2.0/people/@self", method: .get)
            #expect(refused.headers[.wwwAuthenticate]?.contains(
                "resource_metadata=\"https://portal.example/.well-known/oauth-protected-resource/my%20docs/api/2.0\"") == true,
                "\(refused.headers[.wwwAuthenticate] ?? "")")
        }
    }

    /// RFC 8707 (SPEC §6): a token asked for the portal API is for it alone (`aud`), works there and at
    /// userinfo, and introspection shows its audience; resources at the token endpoint must be among
    /// those granted (the issuer when none was named), or `invalid_target`; an unknown resource at
    /// authorize goes back to the app as `invalid_target`.
    @Test func resourceIndicatorsBindTokensToTheirResource() async throws {
        try await withTestApp { client, _ in
            let api = "http://127.0.0.1:8080/api/2.0"
            let app = try await registerApp(client)
            var browser = Browser()
            let pkce = PKCEPair.make()
            let code = try await browser.code(client, app: app, pkce: pkce, scope: "openid files:read", resources: [api])
            let answer = try await tokenRequest(client, [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", app.redirectURI),
                                                         ("code_verifier", pkce.verifier), ("resource", api)], authorization: app.basic)
            #expect(answer.status == .ok)
            let tokens = try answer.json()
            let access = try #require(tokens["access_token"] as? String)
            #expect(try claims(of: access)["aud"] as? String == api, "the resource alone, never with the issuer added")
            #expect(try await client.execute(uri: "/api/2.0/files/@my", method: .get, headers: [.authorization: "Bearer \(access)"]).status == .ok)
            #expect(try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"]).status == .ok)
            #expect(try await introspect(client, app: app, token: access)["aud"] as? String == api)
            // A refresh may name the granted resource, never another.
            let refresh = try #require(tokens["refresh_token"] as? String)
            let elsewhere = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", refresh),
                                                            ("resource", "http://127.0.0.1:8080")], authorization: app.basic)
            #expect(try elsewhere.status == .badRequest && elsewhere.json()["error"] as? String == "invalid_target")
            let narrowed = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", refresh), ("resource", api)],
                                                  authorization: app.basic)
            #expect(narrowed.status == .ok)
            #expect(try claims(of: try #require(try narrowed.json()["access_token"] as? String))["aud"] as? String == api)

            // Asked for without a resource: the token is for the issuer, and a resource at the token endpoint is not granted.
            let plainPKCE = PKCEPair.make()
            let plain = try await browser.code(client, app: app, pkce: plainPKCE)
            let refused = try await tokenRequest(client, [("grant_type", "authorization_code"), ("code", plain), ("redirect_uri", app.redirectURI),
                                                          ("code_verifier", plainPKCE.verifier), ("resource", api)], authorization: app.basic)
            #expect(try refused.status == .badRequest && refused.json()["error"] as? String == "invalid_target")

            // An unknown resource at authorize goes back to the app.
            let unknown = try await browser.authorize(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid",
                "state": "s", "code_challenge": pkce.challenge, "code_challenge_method": "S256",
            ]) + "&resource=" + AuthorizationChecks.formEscape("https://evil.example/api"))
            #expect(unknown.status == .found)
            #expect(queryItems(unknown.headers[.location] ?? "")["error"] == "invalid_target")
        }
    }

    /// RFC 8252 §7.3: a native app's loopback redirect URI matches on whichever port it listens;
    /// the code goes to that port and the token request must name the same URI.
    @Test func aLoopbackRedirectURIMatchesOnAnyPort() async throws {
        try await withTestApp { client, _ in
            let registered = try await registerApp(client, redirectURIs: ["http://127.0.0.1/callback", "https://app.example.com/cb"])
            let app = TestApp(clientID: registered.clientID, secret: registered.secret, redirectURI: "http://127.0.0.1:53127/callback")
            var browser = Browser()
            let pkce = PKCEPair.make()
            let code = try await browser.code(client, app: app, pkce: pkce)
            let tokens = try await exchange(client, app: app, code: code, pkce: pkce)
            #expect(tokens.status == .ok)
            // The token request must repeat the port the code went to.
            let otherCode = try await browser.code(client, app: app, pkce: pkce)
            let elsewhere = TestApp(clientID: app.clientID, secret: app.secret, redirectURI: "http://127.0.0.1:53128/callback")
            #expect(try await exchange(client, app: elsewhere, code: otherCode, pkce: pkce).status == .badRequest)
            // Only the port of an http loopback URI may differ.
            for uri in ["https://app.example.com:8443/cb", "http://127.0.0.1:53127/other", "http://localhost:53127/callback"] {
                expectErrorPage(try await browser.get(client, authorizePath(["response_type": "code", "client_id": app.clientID, "redirect_uri": uri])))
            }
        }
    }

    @Test func oidccEnsureRedirectURIInAuthorizationRequest() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client, redirectURIs: ["https://app.example.com/a", "https://app.example.com/b"])
            var browser = Browser()
            _ = try await browser.signIn(client)
            expectErrorPage(try await browser.get(client, authorizePath(["response_type": "code", "client_id": app.clientID])))
        }
    }

    @Test func unknownOrDisabledClientsGetAnErrorPage() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            expectErrorPage(try await browser.get(client, authorizePath([
                "response_type": "code", "client_id": UUID().uuidString, "redirect_uri": app.redirectURI,
            ])))
            expectErrorPage(try await browser.get(client, authorizePath(["response_type": "code", "redirect_uri": app.redirectURI])))
            let token = try await portalToken(client)
            _ = try await api(client, .patch, "/api/2.0/clients/\(app.clientID)/activation", token: token, json: ["status": false])
            expectErrorPage(try await browser.get(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI,
            ])))
        }
    }

    @Test(arguments: [
        ("oidcc-response-type-missing", ["response_type": nil], "invalid_request"),
        ("ensure-response-type-token-fails", ["response_type": "token"], "unsupported_response_type"),
        ("par-plain-pkce-rejected", ["code_challenge": String(repeating: "a", count: 43), "code_challenge_method": "plain"], "invalid_request"),
        ("challenge without method", ["code_challenge": String(repeating: "a", count: 43)], "invalid_request"),
        ("unknown scope", ["scope": "files:admin"], "invalid_scope"),
        ("unregistered scope", ["scope": "rooms:read"], "invalid_scope"),
        ("bad prompt", ["prompt": "none login"], "invalid_request"),
        ("bad max_age", ["max_age": "-1"], "invalid_request"),
    ] as [(String, [String: String?], String)])
    func otherAuthorizeErrorsGoBackToTheApp(name: String, overrides: [String: String?], error: String) async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            var parameters: [String: String?] = ["response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "state": "xyz"]
            for (key, value) in overrides { parameters[key] = value }
            let response = try await browser.get(client, authorizePath(parameters))
            #expect(response.status == .found, "\(name)")
            let location = try #require(response.headers[.location])
            #expect(location.hasPrefix(app.redirectURI))
            let query = queryItems(location)
            #expect(query["error"] == error, "\(name)")
            #expect(query["error_description"] != nil)
            #expect(query["state"] == "xyz")
            #expect(query["iss"] == "http://127.0.0.1:8080")
        }
    }

    @Test func duplicatedParametersAreRefused() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let path = authorizePath(["response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI]) + "&state=a&state=b"
            let response = try await browser.get(client, path)
            #expect(queryItems(response.headers[.location] ?? "")["error"] == "invalid_request")
        }
    }

    @Test func oidccEnsureRequestWithUnknownParameterSucceeds() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let response = try await browser.authorize(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid",
                "extra_parameter": "hello", "code_challenge": PKCEPair.make().challenge, "code_challenge_method": "S256",
            ]))
            #expect(queryItems(response.headers[.location] ?? "")["code"] != nil)
        }
    }

    @Test func oidccPromptNoneNotLoggedIn() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            let response = try await client.execute(uri: authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "prompt": "none", "state": "q",
            ]), method: .get)
            #expect(response.status == .found)
            #expect(queryItems(response.headers[.location] ?? "")["error"] == "login_required")
            // Without prompt=none the person is sent to sign in, and back.
            let login = try await client.execute(uri: authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI,
            ]), method: .get)
            let location = try #require(login.headers[.location])
            #expect(location.hasPrefix("/login?type=oauth2&client_id=\(app.clientID)&redirect=%2Foauth2%2Fauthorize"))
            // The sign-in form names the app and carries the way back.
            let form = try await client.execute(uri: location, method: .get)
            #expect(form.text.contains("Sign in to continue to <strong>Docs Sync</strong>"))
            #expect(form.text.contains("name=\"redirect\" value=\"/oauth2/authorize?"))
        }
    }

    @Test func oidccMaxAge1() async throws {
        let clock = FixedTime(Date())
        try await withTestApp(clock: clock) { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.code(client, app: app)
            clock.advance(by: 2)
            let response = try await browser.get(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "max_age": "1",
                "scope": "openid files:read",
            ]))
            #expect(response.status == .found)
            #expect(response.headers[.location]?.hasPrefix("/login?") == true)
            #expect(response.headers[.location]?.contains("force=1") == true)
        }
    }

    // MARK: consent

    @Test func consentIsRememberedDenyIsAccessDeniedAndPromptConsentAsksAgain() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let base: [String: String?] = [
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid files:read", "state": "s",
            ]
            let page = try await browser.get(client, authorizePath(base))
            #expect(page.status == .ok)
            #expect(page.text.contains("View all files and folders"))
            #expect(page.text.contains("https://sync.example.com/privacy"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")

            let denied = try await browser.authorize(client, authorizePath(base), decision: "deny")
            #expect(queryItems(denied.headers[.location] ?? "")["error"] == "access_denied")
            var none = base
            none["prompt"] = "none"
            #expect(queryItems(try await browser.get(client, authorizePath(none)).headers[.location] ?? "")["error"] == "consent_required")

            _ = try await browser.authorize(client, authorizePath(base))
            let remembered = try await browser.get(client, authorizePath(base))
            #expect(remembered.status == .found)
            #expect(queryItems(remembered.headers[.location] ?? "")["code"] != nil)
            var again = base
            again["prompt"] = "consent"
            #expect(try await browser.get(client, authorizePath(again)).status == .ok)
            var wider = base
            wider["scope"] = "openid files:read files:write"
            #expect(try await browser.get(client, authorizePath(wider)).status == .ok)
        }
    }

    @Test func theConsentPageWorksForABrowserThatHasNoCSRFCookieYet() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            browser.cookies["gh_csrf"] = nil
            let response = try await browser.authorize(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid",
            ]))
            #expect(response.status == .found)
            #expect(queryItems(response.headers[.location] ?? "")["code"] != nil)
        }
    }

    @Test func aConsentPostWithoutCSRFOrForAnotherRequestIsRefused() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.signIn(client)
            let page = try await browser.get(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid", "state": "s",
            ]))
            let fields = hiddenFields(page.text)
            let withoutCSRF = fields.filter { $0.0 != "csrf_token" } + [("consent", "allow")]
            #expect(try await browser.post(client, "/oauth2/authorize", form: withoutCSRF).status == .forbidden)
            let tampered = fields.map { $0.0 == "scope" ? ($0.0, "openid files:read") : $0 } + [("consent", "allow")]
            #expect(try await browser.post(client, "/oauth2/authorize", form: tampered).status == .forbidden)
            #expect(try await rowCount("consents", in: scratch) == 0)
            #expect(try await rowCount("authorization_codes", in: scratch) == 0)
        }
    }

    // MARK: token endpoint

    @Test func oidccCodeReuseRevokesWhatTheCodeIssued() async throws {
        let clock = FixedTime(Date())
        try await withTestApp(clock: clock) { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let pkce = PKCEPair.make()
            let code = try await browser.code(client, app: app, pkce: pkce)
            let first = try await exchange(client, app: app, code: code, pkce: pkce).json()
            clock.advance(by: 30)  // oidcc-codereuse-30seconds
            let second = try await exchange(client, app: app, code: code, pkce: pkce)
            #expect(second.status == .badRequest)
            #expect(try second.json()["error"] as? String == "invalid_grant")
            let access = try #require(first["access_token"] as? String)
            #expect(try await introspect(client, app: app, token: access)["active"] as? Bool == false)
            let refresh = try #require(first["refresh_token"] as? String)
            let refreshed = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", refresh)], authorization: app.basic)
            #expect(try refreshed.json()["error"] as? String == "invalid_grant")
        }
    }

    @Test func ensureTokenEndpointFailsWithExpiredAuthCode() async throws {
        let clock = FixedTime(Date())
        try await withTestApp(clock: clock) { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let pkce = PKCEPair.make()
            let code = try await browser.code(client, app: app, pkce: pkce)
            clock.advance(by: 61)
            #expect(try await exchange(client, app: app, code: code, pkce: pkce).json()["error"] as? String == "invalid_grant")
        }
    }

    @Test func pkceRules() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let pkce = PKCEPair.make()
            // fapi2 ensure-pkce-code-verifier-required
            let code1 = try await browser.code(client, app: app, pkce: pkce)
            #expect(try await exchange(client, app: app, code: code1, pkce: nil).json()["error"] as? String == "invalid_grant")
            // incorrect-pkce-code-verifier-rejected
            let code2 = try await browser.code(client, app: app, pkce: pkce)
            #expect(try await exchange(client, app: app, code: code2, pkce: PKCEPair.make()).json()["error"] as? String == "invalid_grant")
            // A verifier with no challenge fails.
            let code3 = try await browser.code(client, app: app, pkce: nil)
            #expect(try await exchange(client, app: app, code: code3, pkce: pkce).json()["error"] as? String == "invalid_grant")
            // Verifier format (RFC 7636 §4.1): 42 or 129 characters, or characters outside the set.
            for verifier in [String(repeating: "a", count: 42), String(repeating: "a", count: 129), String(repeating: "a", count: 42) + "!"] {
                let code = try await browser.code(client, app: app, pkce: pkce)
                let response = try await tokenRequest(client, [
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", app.redirectURI), ("code_verifier", verifier),
                ], authorization: app.basic)
                #expect(try response.json()["error"] as? String == "invalid_request")
            }
            // A public client (no secret) must use PKCE.
            let code4 = try await browser.code(client, app: app, pkce: nil)
            let publicWithoutPKCE = try await tokenRequest(client, [
                ("grant_type", "authorization_code"), ("code", code4), ("redirect_uri", app.redirectURI), ("client_id", app.clientID),
            ])
            #expect(try publicWithoutPKCE.json()["error"] as? String == "invalid_grant")
            let code5 = try await browser.code(client, app: app, pkce: pkce)
            let publicWithPKCE = try await tokenRequest(client, [
                ("grant_type", "authorization_code"), ("code", code5), ("redirect_uri", app.redirectURI), ("client_id", app.clientID),
                ("code_verifier", pkce.verifier),
            ])
            #expect(publicWithPKCE.status == .ok)
        }
    }

    @Test func ensureAuthorizationCodeIsBoundToClient() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            let other = try await registerApp(client)
            var browser = Browser()
            let pkce = PKCEPair.make()
            let code = try await browser.code(client, app: app, pkce: pkce)
            let stolen = try await exchange(client, app: TestApp(clientID: other.clientID, secret: other.secret, redirectURI: app.redirectURI),
                                            code: code, pkce: pkce)
            #expect(try stolen.json()["error"] as? String == "invalid_grant")
            // The rightful app can still use it.
            #expect(try await exchange(client, app: app, code: code, pkce: pkce).status == .ok)
        }
    }

    @Test func clientAuthenticationFailures() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client)
            let confidential = try await registerApp(client, allowPKCE: false)
            let grant = [("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", app.redirectURI)]
            let wrong = try await tokenRequest(client, grant, authorization: "Basic " + Data("\(app.clientID):wrong".utf8).base64EncodedString())
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            #expect(try wrong.json()["error"] as? String == "invalid_client")
            let malformed = try await tokenRequest(client, grant, authorization: "Basic !!!not-base64")
            #expect(try malformed.json()["error"] as? String == "invalid_client")
            let both = try await tokenRequest(client, grant + [("client_secret", app.secret)], authorization: app.basic)
            #expect(try both.json()["error"] as? String == "invalid_request")
            let duplicated = try await tokenRequest(client, grant + [("code", "y")], authorization: app.basic)
            #expect(try duplicated.json()["error"] as? String == "invalid_request")
            let json = try await client.execute(uri: "/oauth2/token", method: .post,
                headers: [.contentType: "application/json", .authorization: app.basic], body: ByteBuffer(string: "{\"grant_type\":\"authorization_code\"}"))
            #expect(json.status == .badRequest)
            #expect(try json.json()["error"] as? String == "invalid_request")
            let unsupported = try await tokenRequest(client, [("grant_type", "password")], authorization: app.basic)
            #expect(try unsupported.json()["error"] as? String == "unsupported_grant_type")
            let noneForConfidential = try await tokenRequest(client, grant.dropLast() + [("client_id", confidential.clientID)])
            #expect(try noneForConfidential.json()["error"] as? String == "invalid_client")
            let post = try await tokenRequest(client, grant + [("client_id", app.clientID), ("client_secret", app.secret)])
            #expect(try post.json()["error"] as? String == "invalid_grant")
            for response in [wrong, malformed, both, duplicated, json, unsupported] {
                #expect(!response.text.contains(app.secret))
                #expect(response.headers[.contentType] == "application/json")
            }
            #expect(try await rowCount("refresh_tokens", in: scratch) == 0)
        }
    }

    @Test func oidccRefreshTokenRotationAndReuse() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            let other = try await registerApp(client)
            var browser = Browser()
            let tokens = try await browser.tokens(client, app: app)
            let first = try #require(tokens["refresh_token"] as? String)
            let foreign = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", first)], authorization: other.basic)
            #expect(try foreign.json()["error"] as? String == "invalid_grant")
            let rotated = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", first)], authorization: app.basic)
            #expect(rotated.status == .ok)
            let second = try #require(try rotated.json()["refresh_token"] as? String)
            #expect(second != first)
            #expect(try rotated.json()["id_token"] == nil)
            let narrowed = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", second), ("scope", "files:read rooms:read")], authorization: app.basic)
            #expect(try narrowed.json()["error"] as? String == "invalid_scope")
            // The rotated-out token comes back: the whole grant ends.
            let replay = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", first)], authorization: app.basic)
            #expect(try replay.json()["error"] as? String == "invalid_grant")
            let afterReplay = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", second)], authorization: app.basic)
            #expect(try afterReplay.json()["error"] as? String == "invalid_grant")
            let access = try #require(try rotated.json()["access_token"] as? String)
            #expect(try await introspect(client, app: app, token: access)["active"] as? Bool == false)
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func concurrentUseOfOneCodeOrRefreshTokenHasOneWinner(kind: TestDatabaseKind) async throws {
        try await withTestApp(kind) { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let pkce = PKCEPair.make()
            let code = try await browser.code(client, app: app, pkce: pkce)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 { group.addTask { try await exchange(client, app: app, code: code, pkce: pkce).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)

            let code2 = try await browser.code(client, app: app, pkce: pkce)
            let refresh = try #require(try await exchange(client, app: app, code: code2, pkce: pkce).json()["refresh_token"] as? String)
            let refreshes = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", refresh)], authorization: app.basic).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(refreshes.filter { $0 == .ok }.count == 1)
        }
    }

    // MARK: revocation, introspection, userinfo, logout

    @Test func revokingDisablingDeletingAndWithdrawingEndTokensAtOnce() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            func tokens() async throws -> (access: String, refresh: String) {
                let body = try await browser.tokens(client, app: app)
                return (try #require(body["access_token"] as? String), try #require(body["refresh_token"] as? String))
            }
            let revoke = { (token: String) in
                try await client.execute(uri: "/oauth2/revoke", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded", .authorization: app.basic],
                    body: ByteBuffer(string: formEncode([("token", token)])))
            }
            let a = try await tokens()
            #expect(try await revoke(a.access).status == .ok)
            #expect(try await introspect(client, app: app, token: a.access)["active"] as? Bool == false)
            #expect(try await introspect(client, app: app, token: a.refresh)["active"] as? Bool == true)
            #expect(try await revoke(a.refresh).status == .ok)
            #expect(try await introspect(client, app: app, token: a.refresh)["active"] as? Bool == false)
            #expect(try await revoke("not-a-token").status == .ok)

            let b = try await tokens()
            let portal = try await portalToken(client)
            #expect(try await api(client, .delete, "/api/2.0/clients/\(app.clientID)/revoke", token: portal).status == .noContent)
            let userinfo = try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(b.access)"])
            #expect(userinfo.status == .unauthorized)
            #expect(userinfo.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
            #expect(try await introspect(client, app: app, token: b.refresh)["active"] as? Bool == false)

            let c = try await tokens()
            _ = try await api(client, .patch, "/api/2.0/clients/\(app.clientID)/activation", token: portal, json: ["status": false])
            let afterDisable = try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(c.access)"])
            #expect(afterDisable.status == .unauthorized)
            let refreshDisabled = try await tokenRequest(client, [("grant_type", "refresh_token"), ("refresh_token", c.refresh)], authorization: app.basic)
            #expect(try refreshDisabled.json()["error"] as? String == "invalid_client")
            // Disabling also ended the consent.
            let consents = try await api(client, .get, "/api/2.0/clients/consents", token: portal).json()
            #expect((consents["data"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func introspectionOfAnotherAppsTokenIsInactive() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            let other = try await registerApp(client)
            var browser = Browser()
            let access = try #require(try await browser.tokens(client, app: app)["access_token"] as? String)
            #expect(try await introspect(client, app: other, token: access) as NSDictionary == ["active": false] as NSDictionary)
            #expect(try await introspect(client, app: app, token: "garbage")["active"] as? Bool == false)
        }
    }

    @Test func userinfoNeedsOpenID() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let access = try #require(try await browser.tokens(client, app: app, scope: "files:read")["access_token"] as? String)
            let response = try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"])
            #expect(response.status == .forbidden)
            #expect(response.headers[.wwwAuthenticate]?.contains("insufficient_scope") == true)
            #expect(try await client.execute(uri: "/oauth2/userinfo", method: .get).status == .unauthorized)
        }
    }

    @Test func oidccRPInitiatedLogoutBadPostLogoutRedirectURI() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client, logoutRedirectURI: "https://app.example.com/bye")
            var browser = Browser()
            let idToken = try #require(try await browser.tokens(client, app: app)["id_token"] as? String)
            let bad = try await browser.get(client, "/oauth2/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")
            #expect(bad.status == .badRequest)
            #expect(bad.headers[.location] == nil)
            let sessions = try await rowCount("sessions", in: scratch)
            let good = try await browser.get(client, "/oauth2/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye&state=z")
            #expect(good.status == .found)
            #expect(good.headers[.location] == "https://app.example.com/bye?state=z")
            #expect(try await rowCount("sessions", in: scratch) == sessions - 1)
        }
    }

    @Test func oidccServerRotateKeys() async throws {
        try await withTestApp { client, scratch in
            let app = try await registerApp(client)
            var browser = Browser()
            let before = try #require(try await browser.tokens(client, app: app)["access_token"] as? String)
            let keysBefore = try await publishedKeys(client)
            try await rotateSigningKeys(configuration: try testConfiguration(scratch), logger: .init(label: "test"))
            try await Task.sleep(for: .milliseconds(2200))  // every process polls the keys each second
            let keysAfter = try await publishedKeys(client)
            #expect(keysAfter.count == keysBefore.count * 2)
            let after = try #require(try await browser.tokens(client, app: app)["access_token"] as? String)
            #expect(JWT.parts(of: after)?.header.kid != JWT.parts(of: before)?.header.kid)
            #expect(try await introspect(client, app: app, token: before)["active"] as? Bool == true)
            #expect(try await introspect(client, app: app, token: after)["active"] as? Bool == true)
        }
    }

    @Test func corsFollowsTheAppsAllowedOrigins() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client, origins: ["https://spa.example.com"])
            let preflight = try await client.execute(uri: "/oauth2/token", method: .options, headers: [
                .origin: "https://spa.example.com", HTTPField.Name("Access-Control-Request-Method")!: "POST",
            ])
            #expect(preflight.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://spa.example.com")
            let foreignPreflight = try await client.execute(uri: "/oauth2/token", method: .options, headers: [.origin: "https://evil.example"])
            #expect(foreignPreflight.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)

            var browser = Browser()
            let pkce = PKCEPair.make()
            let code = try await browser.code(client, app: app, pkce: pkce)
            let actual = try await client.execute(uri: "/oauth2/token", method: .post, headers: [
                .contentType: "application/x-www-form-urlencoded", .origin: "https://spa.example.com",
            ], body: ByteBuffer(string: formEncode([
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", app.redirectURI), ("client_id", app.clientID),
                ("code_verifier", pkce.verifier),
            ])))
            #expect(actual.status == .ok)
            #expect(actual.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://spa.example.com")
            #expect(actual.headers[HTTPField.Name("Access-Control-Allow-Credentials")!] == nil)
            // client_secret_post from the browser origin works the same way.
            let code2 = try await browser.code(client, app: app, pkce: pkce)
            let posted = try await client.execute(uri: "/oauth2/token", method: .post, headers: [
                .contentType: "application/x-www-form-urlencoded", .origin: "https://spa.example.com",
            ], body: ByteBuffer(string: formEncode([
                ("grant_type", "authorization_code"), ("code", code2), ("redirect_uri", app.redirectURI), ("client_id", app.clientID),
                ("client_secret", app.secret), ("code_verifier", pkce.verifier),
            ])))
            #expect(posted.status == .ok)
            #expect(posted.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://spa.example.com")
            let other = try await client.execute(uri: "/oauth2/token", method: .post, headers: [
                .contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example", .authorization: app.basic,
            ], body: ByteBuffer(string: formEncode([("grant_type", "refresh_token"), ("refresh_token", "x")])))
            #expect(other.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
            let authorize = try await client.execute(uri: "/oauth2/authorize", method: .get, headers: [.origin: "https://spa.example.com"])
            #expect(authorize.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
            let jwks = try await client.execute(uri: "/oauth2/jwks", method: .get, headers: [.origin: "https://anyone.example"])
            #expect(jwks.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "*")
        }
    }

    @Test func oauthTokensOnThePortalAPIFollowTheScopeMapAndRevocation() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let profile = try #require(try await browser.tokens(client, app: app, scope: "accounts.self:read")["access_token"] as? String)
            let me = try await client.execute(uri: "/api/2.0/people/@self", method: .get, headers: [.authorization: "Bearer \(profile)"])
            #expect(me.status == .ok)
            #expect((try me.json()["response"] as? [String: Any])?["email"] as? String == ownerEmail)
            let files = try #require(try await browser.tokens(client, app: app, scope: "files:read")["access_token"] as? String)
            let refused = try await client.execute(uri: "/api/2.0/people/@self", method: .get, headers: [.authorization: "Bearer \(files)"])
            #expect(refused.status == .forbidden)
            #expect(refused.headers[.wwwAuthenticate]?.contains("error=\"insufficient_scope\"") == true)
            #expect(refused.headers[.wwwAuthenticate]?.contains("scope=\"accounts.self:read\"") == true)
            // The clients API is not for OAuth tokens at all.
            let clients = try await client.execute(uri: "/api/2.0/clients", method: .get, headers: [.authorization: "Bearer \(profile)"])
            #expect(clients.status == .forbidden)
            // Revoked: refused at once.
            _ = try await client.execute(uri: "/oauth2/revoke", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: app.basic],
                body: ByteBuffer(string: formEncode([("token", profile)])))
            let revoked = try await client.execute(uri: "/api/2.0/people/@self", method: .get, headers: [.authorization: "Bearer \(profile)"])
            #expect(revoked.status == .unauthorized)
            #expect(revoked.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true)
            let forged = try await client.execute(uri: "/api/2.0/people/@self", method: .get, headers: [.authorization: "Bearer a.b.c"])
            #expect(forged.status == .unauthorized)
        }
    }

    @Test func oidccIDTokenSignature() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            let idToken = try #require(try await browser.tokens(client, app: app)["id_token"] as? String)
            let keys = try await publishedKeys(client).compactMap(VerificationKey.init(jwk:))
            #expect(JWT.verify(idToken, as: IDTokenClaims.self, keys: keys) != nil)
            var parts = idToken.split(separator: ".").map(String.init)
            var payload = try claims(of: idToken)
            payload["email"] = "attacker@example.com"
            parts[1] = Base64URL.encode(try JSONSerialization.data(withJSONObject: payload))
            #expect(JWT.verify(parts.joined(separator: "."), as: IDTokenClaims.self, keys: keys) == nil)
            // alg confusion: an ES256 key id with an RS256 header is refused.
            let accessKid = try #require(keys.first { $0.algorithm == .es256 }?.keyID)
            let header = Base64URL.encode(Data("{\"alg\":\"RS256\",\"kid\":\"\(accessKid)\"}".utf8))
            #expect(JWT.verify([header, parts[1], parts[2]].joined(separator: "."), as: IDTokenClaims.self, keys: keys) == nil)
        }
    }

    @Test func promptLoginAsksForTheSignInAgain() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.code(client, app: app)
            let response = try await browser.get(client, authorizePath([
                "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": "openid files:read",
                "prompt": "login",
            ]))
            let location = try #require(response.headers[.location])
            #expect(location.hasPrefix("/login?") && location.contains("force=1"))
            #expect(!location.contains("prompt"))
            let form = try await browser.get(client, location)
            #expect(form.status == .ok)
            #expect(form.text.contains("name=\"password\""))
        }
    }

    @Test func consentsAreListedAndShownOnTheProfilePage() async throws {
        try await withTestApp { client, _ in
            let app = try await registerApp(client)
            var browser = Browser()
            _ = try await browser.code(client, app: app)
            let portal = try await portalToken(client)
            let list = try await api(client, .get, "/api/2.0/clients/consents", token: portal).json()
            let entry = try #require((list["data"] as? [[String: Any]])?.first)
            #expect(entry["registered_client_id"] as? String == app.clientID)
            #expect(entry["scopes"] as? [String] == ["files:read", "openid"])
            #expect((entry["client"] as? [String: Any])?["name"] as? String == "Docs Sync")
            let page = try await browser.get(client, "/profile/authorized-apps")
            #expect(page.text.contains("Docs Sync"))
            // Scopes with the consent screen's labels; Revoke asks first, on a page naming what ends.
            #expect(page.text.contains("View all files and folders") && page.text.contains("View your personal data"))
            #expect(!page.text.contains("method=\"post\" action=\"/profile/authorized-apps/"))
            let confirm = try await browser.get(client, "/profile/authorized-apps/\(app.clientID)/revoke")
            #expect(confirm.status == .ok && confirm.text.contains("Revoke “Docs Sync”?") && confirm.text.contains("View all files and folders"))
            #expect(try await browser.get(client, "/profile/authorized-apps").text.contains("Docs Sync"), "nothing revoked by looking")
            let csrf = try #require(csrfToken(in: confirm.text))
            let revoked = try await browser.post(client, "/profile/authorized-apps/\(app.clientID)/revoke", form: [("csrf_token", csrf)])
            #expect(revoked.status == .seeOther)
            let after = try await browser.get(client, try #require(revoked.headers[.location]))
            #expect(after.text.contains("no-authorized-apps"))
            #expect(after.text.contains("“Docs Sync” can no longer act for you"))
            #expect(try await browser.get(client, "/profile/authorized-apps/\(app.clientID)/revoke").status == .notFound)
        }
    }
}
