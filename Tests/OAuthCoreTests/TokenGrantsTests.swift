import Foundation
import OAuthCore
import Testing

/// The two grants as tables (RFC 6749 §4.1.3 and §6, RFC 7636 §4.6, RFC 9700 §4.14.2), against an
/// in-memory stand-in for the authorization store's ports; the SQL stores pass the same contract in
/// StorageTests.
@Suite struct TokenGrantsTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let verifier = String(repeating: "v", count: 43)

    /// Codes, refresh tokens and grants in memory, with what was revoked.
    actor Memory: AuthorizationCodeStore, RefreshTokenStore, GrantStore {
        var codes: [String: IssuedCode] = [:]
        var tokens: [String: StoredRefreshToken] = [:]
        var revoked: Set<GrantID> = []
        var feed: [Revocation] = []

        func issue(_ code: IssuedCode) async throws { codes[code.codeHash] = code }
        func find(codeHash: String) async throws -> IssuedCode? { codes[codeHash] }
        func redeem(codeHash: String, at: Date, firstRefreshToken: StoredRefreshToken?) async throws -> Bool {
            guard var code = codes[codeHash], code.consumedAt == nil, !revoked.contains(code.grantID) else { return false }
            code.consumedAt = at
            codes[codeHash] = code
            if let firstRefreshToken { tokens[firstRefreshToken.tokenHash] = firstRefreshToken }
            return true
        }
        func find(tokenHash: String) async throws -> StoredRefreshToken? { tokens[tokenHash] }
        func rotate(tokenHash: String, at: Date, successor: StoredRefreshToken) async throws -> Bool {
            guard var token = tokens[tokenHash], token.rotatedAt == nil, token.expiresAt > at, !revoked.contains(token.grantID) else { return false }
            token.rotatedAt = at
            tokens[tokenHash] = token
            tokens[successor.tokenHash] = successor
            return true
        }
        func isActive(grantID: GrantID) async throws -> Bool { !revoked.contains(grantID) }
        func revoke(grantID: GrantID, at: Date, feedExpiry: Date) async throws {
            revoked.insert(grantID)
            feed.append(.grant(id: grantID))
        }
        func record(_ revocation: Revocation, at: Date, feedExpiry: Date) async throws { feed.append(revocation) }
        func revocations(after id: Int, now: Date) async throws -> [RevocationEntry] { [] }
        func put(_ token: StoredRefreshToken) { tokens[token.tokenHash] = token }
    }

    struct Setup {
        let memory = Memory()
        let client: RegisteredClient
        let keys: ActiveKeys
        let context: GrantContext

        init(scopes: [String] = ["openid", "files:read", "files:write"]) throws {
            var client = AuthorizationChecksTests.Apps().client(enabled: true, redirects: [AuthorizationChecksTests.redirect])
            client.scopes = scopes
            self.client = client
            keys = ActiveKeys(accessToken: try SigningKey.generate(.es256), idToken: try SigningKey.generate(.rs256))
            context = GrantContext(
                codes: memory, refreshTokens: memory, grants: memory, issuer: TokenIssuer(issuer: "https://id.example", accessTokenLifetime: 3600),
                refreshTokenLifetime: 86_400, resources: AuthorizationChecksTests.resources,
                personClaims: { PersonClaims(sub: $0.rawValue, name: "P", givenName: "P", familyName: "Q", email: "p@example.com") }
            )
        }

        func code(challenge: String? = PKCE.challenge(for: TokenGrantsTests.verifier), redirectGiven: Bool = true, expiresIn: TimeInterval = 60,
                  scopes: [String] = ["openid", "files:read"]) async throws -> (String, IssuedCode) {
            let code = OpaqueToken.generate()
            let record = IssuedCode(
                codeHash: OpaqueToken.hash(code), grantID: .generate(), clientID: client.clientID, personID: "p-1",
                redirectURI: AuthorizationChecksTests.redirect, redirectURIWasGiven: redirectGiven, scopes: scopes, nonce: "n",
                codeChallenge: challenge, authTime: TokenGrantsTests.now, createdAt: TokenGrantsTests.now,
                expiresAt: TokenGrantsTests.now.addingTimeInterval(expiresIn)
            )
            try await memory.issue(record)
            return (code, record)
        }

        func exchange(_ parameters: [String: String], credentials: ClientCredentials? = nil, client other: RegisteredClient? = nil) async throws
            -> Result<TokenResponse, OAuthError>
        {
            let credentials = credentials ?? .basic(clientID: client.clientID.rawValue, secret: "s")
            let handler = parameters["grant_type"] == "refresh_token" ? (RefreshTokenGrant() as any GrantHandler) : AuthorizationCodeGrant()
            return try await handler.handle(TokenRequest(parameters: parameters), client: other ?? client, credentials: credentials, keys: keys,
                                            context: context, now: TokenGrantsTests.now)
        }
    }

    static func error(_ result: Result<TokenResponse, OAuthError>) -> String {
        switch result {
        case .success: "ok"
        case .failure(let error): error.code
        }
    }

    struct CodeCase: Sendable, CustomStringConvertible {
        let name: String
        var challenge: Bool = true
        var redirectGiven = true
        var expiresIn: TimeInterval = 60
        var parameters: @Sendable (String) -> [String: String]
        var publicClient = false
        var otherApp = false
        let expected: String
        var description: String { name }
    }

    static func form(_ code: String, verifier: String? = TokenGrantsTests.verifier, redirect: String? = AuthorizationChecksTests.redirect)
        -> [String: String]
    {
        var form = ["grant_type": "authorization_code", "code": code]
        form["code_verifier"] = verifier
        form["redirect_uri"] = redirect
        return form
    }

    static let codeCases: [CodeCase] = [
        CodeCase(name: "good exchange", parameters: { form($0) }, expected: "ok"),
        CodeCase(name: "no code", parameters: { _ in ["grant_type": "authorization_code"] }, expected: "invalid_request"),
        CodeCase(name: "unknown code", parameters: { _ in form("nope") }, expected: "invalid_grant"),
        CodeCase(name: "another app's code", parameters: { form($0) }, otherApp: true, expected: "invalid_grant"),
        CodeCase(name: "expired code", expiresIn: -1, parameters: { form($0) }, expected: "invalid_grant"),
        CodeCase(name: "redirect left out though given", parameters: { form($0, redirect: nil) }, expected: "invalid_grant"),
        CodeCase(name: "other redirect", parameters: { form($0, redirect: "https://app.example/other") }, expected: "invalid_grant"),
        CodeCase(name: "redirect left out, never given", redirectGiven: false, parameters: { form($0, redirect: nil) }, expected: "ok"),
        CodeCase(name: "no verifier for a challenge", parameters: { form($0, verifier: nil) }, expected: "invalid_grant"),
        CodeCase(name: "wrong verifier", parameters: { form($0, verifier: String(repeating: "w", count: 43)) }, expected: "invalid_grant"),
        CodeCase(name: "malformed verifier", parameters: { form($0, verifier: "short") }, expected: "invalid_request"),
        CodeCase(name: "verifier without a challenge", challenge: false, parameters: { form($0) }, expected: "invalid_grant"),
        CodeCase(name: "public client without PKCE", challenge: false, parameters: { form($0, verifier: nil) }, publicClient: true,
                 expected: "invalid_grant"),
        CodeCase(name: "confidential client without PKCE", challenge: false, parameters: { form($0, verifier: nil) }, expected: "ok"),
    ]

    @Test(arguments: codeCases)
    func authorizationCode(_ testCase: CodeCase) async throws {
        let setup = try Setup()
        let (code, _) = try await setup.code(challenge: testCase.challenge ? PKCE.challenge(for: Self.verifier) : nil,
                                             redirectGiven: testCase.redirectGiven, expiresIn: testCase.expiresIn)
        var other = setup.client
        other.clientID = ClientID(rawValue: "9f9f9f9f-9f9f-4f9f-9f9f-9f9f9f9f9f9f")
        let result = try await setup.exchange(
            testCase.parameters(code), credentials: testCase.publicClient ? .none(clientID: setup.client.clientID.rawValue) : nil,
            client: testCase.otherApp ? other : nil
        )
        #expect(Self.error(result) == testCase.expected, "\(testCase.name)")
    }

    /// A code works once; its second use revokes the grant the first one opened (RFC 6749 §4.1.2).
    @Test func aReusedCodeRevokesItsGrant() async throws {
        let setup = try Setup()
        let (code, record) = try await setup.code()
        let first = try await setup.exchange(Self.form(code)).get()
        #expect(first.id_token != nil && first.scope == "openid files:read")
        #expect(Self.error(try await setup.exchange(Self.form(code))) == "invalid_grant")
        #expect(await setup.memory.revoked.contains(record.grantID))
        #expect(Self.error(try await setup.exchange(["grant_type": "refresh_token", "refresh_token": (first.refresh_token ?? "")])) == "invalid_grant")
    }

    /// Refresh: rotation, reuse detection, narrowing, and the app's current registration.
    @Test func refreshRotatesAndNarrowsButNeverWidens() async throws {
        let setup = try Setup()
        let (code, record) = try await setup.code(scopes: ["openid", "files:read", "files:write"])
        let first = try await setup.exchange(Self.form(code)).get()
        let refresh = { (token: String, scope: String?) in
            var form = ["grant_type": "refresh_token", "refresh_token": token]
            form["scope"] = scope
            return form
        }
        #expect(Self.error(try await setup.exchange(refresh((first.refresh_token ?? ""), "files:read rooms:read"))) == "invalid_scope")
        let narrowed = try await setup.exchange(refresh((first.refresh_token ?? ""), "files:read")).get()
        #expect(narrowed.scope == "files:read" && narrowed.id_token == nil)
        // The narrowing is for that answer only: the grant keeps its scopes for the next refresh.
        let again = try await setup.exchange(refresh((narrowed.refresh_token ?? ""), nil)).get()
        #expect(Set(again.scope.split(separator: " ")) == ["openid", "files:read", "files:write"])
        // Another app cannot use it; an unknown one is unknown.
        var other = setup.client
        other.clientID = ClientID(rawValue: "9f9f9f9f-9f9f-4f9f-9f9f-9f9f9f9f9f9f")
        #expect(Self.error(try await setup.exchange(refresh((again.refresh_token ?? ""), nil), client: other)) == "invalid_grant")
        #expect(Self.error(try await setup.exchange(refresh("unknown", nil))) == "invalid_grant")
        #expect(Self.error(try await setup.exchange(["grant_type": "refresh_token"])) == "invalid_request")
        // A rotated-out token coming back revokes the whole grant, its newest token included.
        #expect(Self.error(try await setup.exchange(refresh((first.refresh_token ?? ""), nil))) == "invalid_grant")
        #expect(await setup.memory.revoked.contains(record.grantID))
        #expect(Self.error(try await setup.exchange(refresh((again.refresh_token ?? ""), nil))) == "invalid_grant")
    }

    @Test func refreshKeepsOnlyWhatTheAppIsStillRegisteredFor() async throws {
        let setup = try Setup()
        let (code, _) = try await setup.code(scopes: ["openid", "files:read", "files:write"])
        let first = try await setup.exchange(Self.form(code)).get()
        var shrunk = setup.client
        shrunk.scopes = ["openid", "files:read"]
        let next = try await setup.exchange(["grant_type": "refresh_token", "refresh_token": (first.refresh_token ?? "")], client: shrunk).get()
        #expect(next.scope == "openid files:read")
        shrunk.scopes = ["rooms:read"]
        #expect(Self.error(try await setup.exchange(["grant_type": "refresh_token", "refresh_token": (next.refresh_token ?? "")], client: shrunk))
                == "invalid_grant")
    }

    @Test func anExpiredRefreshTokenIsRefused() async throws {
        let setup = try Setup()
        let token = OpaqueToken.generate()
        await setup.memory.put(StoredRefreshToken(
            tokenHash: OpaqueToken.hash(token), grantID: "g", clientID: setup.client.clientID, personID: "p", scopes: ["files:read"],
            authTime: Self.now, createdAt: Self.now.addingTimeInterval(-100), expiresAt: Self.now.addingTimeInterval(-1)
        ))
        #expect(Self.error(try await setup.exchange(["grant_type": "refresh_token", "refresh_token": token])) == "invalid_grant")
    }
}

/// Introspection and revocation rules (RFC 7662 §2.2, RFC 7009 §2.1): only the token's own app learns
/// or ends anything.
@Suite struct IntrospectionAndRevocationRulesTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let mine = ClientID(rawValue: AuthorizationChecksTests.clientID)
    static let theirs = ClientID(rawValue: "9f9f9f9f-9f9f-4f9f-9f9f-9f9f9f9f9f9f")

    static func claims(client: ClientID = mine, exp: TimeInterval = 60) -> AccessTokenClaims {
        let at = Int64(now.timeIntervalSince1970)
        let json = """
            {"iss":"https://id.example","sub":"p","aud":"https://id.example","exp":\(at + Int64(exp)),"iat":\(at),"nbf":\(at),"jti":"j",
             "client_id":"\(client.rawValue)","cid":"\(client.rawValue)","scope":"files:read","gid":"g","auth_time":\(at)}
            """
        return try! JSONDecoder().decode(AccessTokenClaims.self, from: Data(json.utf8))
    }

    static func stored(client: ClientID = mine, expiresIn: TimeInterval = 60, rotated: Bool = false) -> StoredRefreshToken {
        var token = StoredRefreshToken(tokenHash: "h", grantID: "g", clientID: client, personID: "p", scopes: ["files:read", "openid"],
                                       authTime: now, createdAt: now, expiresAt: now.addingTimeInterval(expiresIn))
        if rotated { token.rotatedAt = now }
        return token
    }

    @Test func accessTokens() {
        let active = IntrospectionAnswer.accessToken(Self.claims(), caller: Self.mine, now: Self.now)
        #expect(active.active && active.scope == "files:read" && active.token_type == "Bearer" && active.jti == "j")
        #expect(IntrospectionAnswer.accessToken(Self.claims(client: Self.theirs), caller: Self.mine, now: Self.now) == .inactive)
        #expect(IntrospectionAnswer.accessToken(Self.claims(exp: 0), caller: Self.mine, now: Self.now) == .inactive)
    }

    @Test func refreshTokens() async {
        let active = await IntrospectionAnswer.refreshToken(Self.stored(), caller: Self.mine, issuer: "https://id.example", now: Self.now) { true }
        #expect(active.active && active.scope == "files:read openid" && active.token_type == "refresh_token" && active.sub == "p")
        #expect(await IntrospectionAnswer.refreshToken(Self.stored(), caller: Self.mine, issuer: "i", now: Self.now) { false } == .inactive)
        // Another app's, a rotated or an expired token is inactive without asking about its grant.
        for (stored, caller) in [(Self.stored(client: Self.theirs), Self.mine), (Self.stored(rotated: true), Self.mine),
                                 (Self.stored(expiresIn: 0), Self.mine), (Self.stored(), Self.theirs)] {
            var asked = false
            #expect(await IntrospectionAnswer.refreshToken(stored, caller: caller, issuer: "i", now: Self.now) { asked = true; return true } == .inactive)
            #expect(!asked)
        }
    }

    @Test func revocationEndsOnlyTheCallersOwnTokens() {
        #expect(TokenRevocation.of(accessToken: Self.claims(), caller: Self.mine) == .token(jti: "j"))
        #expect(TokenRevocation.of(accessToken: Self.claims(client: Self.theirs), caller: Self.mine) == nil)
        // Expired or rotated, a refresh token still ends its grant when its own app revokes it.
        #expect(TokenRevocation.of(refreshToken: Self.stored(expiresIn: -10, rotated: true), caller: Self.mine) == .grant(id: "g"))
        #expect(TokenRevocation.of(refreshToken: Self.stored(), caller: Self.theirs) == nil)
    }
}
