import Foundation
import GatehouseTestSupport
import OAuthCore
import Testing

/// A registration that passes every rule; each test breaks one thing.
func validInput() -> ClientRegistrationInput {
    var input = ClientRegistrationInput()
    input.name = "Docs Sync"
    input.description = "Keeps your documents in sync."
    input.websiteURL = "https://sync.example.com"
    input.logo = .dataURI(TestImages.dataURI(TestImages.png(width: 32, height: 32)))
    input.allowPKCE = true
    input.redirectURIs = ["https://sync.example.com/callback", "http://127.0.0.1:8765/cb"]
    input.allowedOrigins = ["https://Sync.Example.com:443"]
    input.scopes = ["files:write", "openid"]
    input.policyURL = "https://sync.example.com/privacy"
    input.termsURL = "https://sync.example.com/terms"
    return input
}

@Suite struct RegistrationValidatorTests {
    @Test func aGoodRegistrationIsNormalized() throws {
        let valid = try ClientRegistrationValidator.validate(validInput()).get()
        #expect(valid.name == "Docs Sync")
        #expect(valid.allowedOrigins == ["https://sync.example.com"])
        #expect(valid.scopes == ["files:read", "files:write", "openid"])
        #expect(valid.redirectURIs.count == 2)
        #expect(valid.logo.format == .png)
    }

    static let broken: [(String, @Sendable (inout ClientRegistrationInput) -> Void, String, FieldErrorCode)] = [
        ("no name", { $0.name = nil }, "name", .emptyField),
        ("blank name", { $0.name = "   " }, "name", .emptyField),
        ("short name", { $0.name = "ab" }, "name", .name),
        ("long name", { $0.name = String(repeating: "n", count: 257) }, "name", .name),
        ("long description", { $0.description = String(repeating: "d", count: 256) }, "description", .pattern),
        ("no website", { $0.websiteURL = nil }, "website_url", .emptyField),
        ("relative website", { $0.websiteURL = "/home" }, "website_url", .wrongURL),
        ("ftp website", { $0.websiteURL = "ftp://files.example.com" }, "website_url", .wrongURL),
        ("no policy", { $0.policyURL = "" }, "policy_url", .emptyField),
        ("bad terms", { $0.termsURL = "terms" }, "terms_url", .wrongURL),
        ("no logo", { $0.logo = nil }, "logo", .emptyField),
        ("64px logo", { $0.logo = .dataURI(TestImages.dataURI(TestImages.png(width: 64, height: 64))) }, "logo", .logo),
        ("gif logo", { $0.logo = .dataURI(TestImages.dataURI(TestImages.gif, type: "image/gif")) }, "logo", .logo),
        ("not base64", { $0.logo = .dataURI("data:image/png,abc") }, "logo", .logo),
        ("png named svg", { $0.logo = .upload(TestImages.png(width: 32, height: 32), declaredType: "logo.svg") }, "logo", .logo),
        ("no redirect", { $0.redirectURIs = [] }, "redirect_uris", .emptyField),
        ("13 redirects", { $0.redirectURIs = (1...13).map { "https://a.example/\($0)" } }, "redirect_uris", .pattern),
        ("fragment", { $0.redirectURIs = ["https://a.example/cb#frag"] }, "redirect_uris", .wrongURL),
        ("wildcard", { $0.redirectURIs = ["https://*.example.com/cb"] }, "redirect_uris", .wrongURL),
        ("http not loopback", { $0.redirectURIs = ["http://example.com/cb"] }, "redirect_uris", .wrongURL),
        ("javascript redirect", { $0.redirectURIs = ["javascript:alert(1)"] }, "redirect_uris", .wrongURL),
        ("relative redirect", { $0.redirectURIs = ["/cb"] }, "redirect_uris", .wrongURL),
        ("no origin", { $0.allowedOrigins = [] }, "allowed_origins", .emptyField),
        ("origin with path", { $0.allowedOrigins = ["https://a.example/path"] }, "allowed_origins", .wrongURL),
        ("origin with query", { $0.allowedOrigins = ["https://a.example?x=1"] }, "allowed_origins", .wrongURL),
        ("not an origin", { $0.allowedOrigins = ["a.example"] }, "allowed_origins", .wrongURL),
        ("13 origins", { $0.allowedOrigins = (1...13).map { "https://a\($0).example" } }, "allowed_origins", .pattern),
        ("no scopes", { $0.scopes = [] }, "scopes", .invalidScope),
        ("unknown scope", { $0.scopes = ["files:admin"] }, "scopes", .invalidScope),
        ("bad logout", { $0.logoutRedirectURI = "http://example.com/bye" }, "logout_redirect_uri", .wrongURL),
        // RFC 3986 §2: nothing but printable ASCII, raw; the rest must be percent-encoded.
        ("control char redirect", { $0.redirectURIs = ["https://a.example/c\u{01}b"] }, "redirect_uris", .wrongURL),
        ("DEL redirect", { $0.redirectURIs = ["https://a.example/cb\u{7F}"] }, "redirect_uris", .wrongURL),
        ("non-ASCII redirect", { $0.redirectURIs = ["https://a.example/caf\u{E9}"] }, "redirect_uris", .wrongURL),
        ("bidi redirect", { $0.redirectURIs = ["https://a.example/\u{202E}gpj.exe"] }, "redirect_uris", .wrongURL),
        ("non-ASCII private scheme", { $0.redirectURIs = ["com.exampl\u{E9}.app:/cb"] }, "redirect_uris", .wrongURL),
        ("bidi origin", { $0.allowedOrigins = ["https://a\u{202E}.example"] }, "allowed_origins", .wrongURL),
        ("non-ASCII origin", { $0.allowedOrigins = ["https://ex\u{E4}mple.com"] }, "allowed_origins", .wrongURL),
        ("control char origin", { $0.allowedOrigins = ["https://a.example\u{0B}"] }, "allowed_origins", .wrongURL),
        ("control char logout", { $0.logoutRedirectURI = "https://a.example/bye\u{07}" }, "logout_redirect_uri", .wrongURL),
        ("bidi website", { $0.websiteURL = "https://a.example/\u{202D}x" }, "website_url", .wrongURL),
    ]

    @Test(arguments: broken)
    func eachRuleBrokenAloneNamesItsField(
        name: String, breakIt: @Sendable (inout ClientRegistrationInput) -> Void, field: String, code: FieldErrorCode
    ) {
        var input = validInput()
        breakIt(&input)
        switch ClientRegistrationValidator.validate(input) {
        case .success: Issue.record("\(name) was accepted")
        case .failure(let errors):
            #expect(errors.errors.count == 1, "\(name): \(errors.errors)")
            #expect(errors.errors.first?.field == field)
            #expect(errors.errors.first?.code == code)
        }
    }

    @Test(arguments: [
        "https://app.example.com/cb", "https://app.example.com/cb?x=1", "http://localhost:3000/cb",
        "http://127.0.0.1/cb", "http://[::1]:8080/cb", "com.example.app:/oauth2redirect", "com.example.app:/cb",
        "claude:/callback",
    ])
    func acceptableRedirectURIs(uri: String) {
        #expect(URLRules.redirectURIProblem(uri) == nil)
    }

    /// RFC 8252 §7.3: an http loopback redirect URI matches on any port; everything else exactly.
    @Test(arguments: [
        ("http://127.0.0.1:53127/cb", "http://127.0.0.1/cb", true),
        ("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb", true),
        ("http://localhost:41000/callback?x=1", "http://localhost:3000/callback?x=1", true),
        ("http://[::1]:61000/cb", "http://[::1]:8080/cb", true),
        ("https://app.example/cb", "https://app.example/cb", true),
        ("claude:/callback", "claude:/callback", true),
        ("http://127.0.0.1:53127/other", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:53127/cb?x=2", "http://127.0.0.1/cb?x=1", false),
        ("http://127.0.0.1:53127/cb", "http://localhost/cb", false),
        ("https://127.0.0.1:53127/cb", "https://127.0.0.1/cb", false),
        ("https://app.example:8443/cb", "https://app.example/cb", false),
        ("http://127.0.0.1.evil.example:80/cb", "http://127.0.0.1/cb", false),
        ("http://user@127.0.0.1:1/cb", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:1/cb#x", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:1/CB", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:1/c%62", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:0/cb", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:/cb", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:65536/cb", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:0080/cb", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:99999999999999999999/cb", "http://127.0.0.1/cb", false),
        ("http://127.0.0.1:65535/cb", "http://127.0.0.1:80/cb", true),
    ])
    func redirectURIsMatchExactlyButForTheLoopbackPort(given: String, registered: String, matches: Bool) {
        #expect(URLRules.redirectURI(given, matches: registered) == matches)
    }

    @Test(arguments: ["claud:/cb", "claudeapp:/cb", "myapp:/cb"])
    func onlyNamedSchemesGoWithoutADot(uri: String) {
        #expect(URLRules.redirectURIProblem(uri) != nil)
    }

    @Test(arguments: [
        ("https://A.example.com", "https://a.example.com"), ("https://a.example.com:443", "https://a.example.com"),
        ("http://a.example.com:80", "http://a.example.com"), ("http://localhost:3000", "http://localhost:3000"),
        ("https://a.example.com/", "https://a.example.com"),
    ])
    func originsAreNormalized(raw: String, normalized: String) throws {
        #expect(try URLRules.normalizedOrigin(raw).get() == normalized)
    }

    @Test func duplicatesAreRemoved() throws {
        var input = validInput()
        input.redirectURIs = ["https://a.example/cb", "https://a.example/cb"]
        input.allowedOrigins = ["https://a.example", "https://A.example:443"]
        input.scopes = ["files:read", "files:read", "files:write"]
        let valid = try ClientRegistrationValidator.validate(input).get()
        #expect(valid.redirectURIs == ["https://a.example/cb"])
        #expect(valid.allowedOrigins == ["https://a.example"])
        #expect(valid.scopes == ["files:read", "files:write"])
    }

    @Test func everyErrorIsReportedAtOnce() {
        switch ClientRegistrationValidator.validate(ClientRegistrationInput()) {
        case .success: Issue.record("an empty registration was accepted")
        case .failure(let errors):
            let fields = Set(errors.errors.map(\.field))
            #expect(fields == ["name", "website_url", "policy_url", "terms_url", "logo", "redirect_uris", "allowed_origins", "scopes"])
        }
    }
}

@Suite struct ScopeTests {
    @Test func theCatalogHasNineScopes() {
        #expect(ScopeCatalog.all.count == 9)
        #expect(ScopeCatalog.all.filter { $0.type == .write }.count == 4)
    }

    @Test func writeImpliesRead() throws {
        #expect(try ScopeSet.normalize(["rooms:write"]).get().names == ["rooms:read", "rooms:write"])
        #expect(try ScopeSet.normalize(["accounts.self:write"]).get().names == ["accounts.self:read", "accounts.self:write"])
        #expect(try ScopeSet.normalize(["openid"]).get().spaceDelimited == "openid")
    }

    @Test func unknownScopesAreNamed() {
        #expect(throws: UnknownScopes(names: ["files:admin"])) { try ScopeSet.normalize(["files:read", "files:admin"]).get() }
    }
}
