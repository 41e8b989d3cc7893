import OAuthCore
import Testing

/// The app's settings, defined once: what changed is named as the API names it, and a partial update
/// keeps every field it left out.
@Suite struct ClientSettingsTests {
    static let base = ClientSettings(
        name: "Docs", description: "d", websiteURL: "https://a.example", allowPKCE: false, redirectURIs: ["https://a.example/cb"],
        allowedOrigins: ["https://a.example"], scopes: ["openid"], policyURL: "https://a.example/p", termsURL: "https://a.example/t",
        logoutRedirectURI: nil
    )

    @Test func everyFieldIsComparedUnderItsAPIName() {
        #expect(Self.base.changed(from: Self.base).isEmpty)
        var changed = Self.base
        changed.websiteURL = "https://b.example"
        changed.allowPKCE = true
        changed.redirectURIs.append("https://a.example/other")
        changed.logoutRedirectURI = "https://a.example/bye"
        #expect(changed.changed(from: Self.base).map(\.rawValue) == ["website_url", "allow_pkce", "redirect_uris", "logout_redirect_uri"])
        #expect(ClientSettings.Field.allCases.map(\.rawValue) == [
            "name", "description", "website_url", "allow_pkce", "redirect_uris", "allowed_origins", "scopes", "policy_url", "terms_url",
            "logout_redirect_uri",
        ])
    }

    @Test func aPartialUpdateKeepsWhatItLeftOut() {
        var input = ClientRegistrationInput()
        input.name = "Docs Pro"
        input.scopes = ["files:read"]
        let filled = input.filled(from: Self.base)
        #expect(filled.name == "Docs Pro" && filled.scopes == ["files:read"])
        #expect(filled.websiteURL == Self.base.websiteURL && filled.redirectURIs == Self.base.redirectURIs)
        #expect(filled.allowPKCE == false && filled.logoutRedirectURI == nil && filled.termsURL == Self.base.termsURL)
    }
}
