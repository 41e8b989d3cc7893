import Foundation
import Hummingbird
import OAuthCore

/// The "Auth button" of an app (SPEC §7, after DocSpace's Developer Tools): a "Sign in with …" button
/// with its HTML, CSS and JavaScript, the authorize link (with a fresh PKCE pair for apps that allow
/// PKCE), and beyond DocSpace the token request that follows as a `curl` line and an authlib snippet.
struct AuthButton {
    let issuer: String
    let portalName: String
    let client: RegisteredClient
    /// The PKCE pair of this showing (RFC 7636 §4.1–4.2); `nil` for an app that does not allow PKCE.
    let verifier: String?

    init(issuer: String, client: RegisteredClient, verifier: String? = OpaqueToken.generate(byteCount: 32)) {
        self.issuer = issuer
        self.portalName = URL(string: issuer)?.host ?? "the portal"
        self.client = client
        self.verifier = client.allowPKCE ? verifier : nil
    }

    var redirectURI: String { client.redirectURIs.first ?? "" }
    var scope: String { client.scopes.joined(separator: " ") }

    /// RFC 6749 §4.1.1: `response_type`, `client_id`, the first registered `redirect_uri`, the app's
    /// scopes, and the S256 challenge of `verifier` when there is one.
    var authorizeLink: String {
        var parameters = [("response_type", "code"), ("client_id", client.clientID.rawValue), ("redirect_uri", redirectURI), ("scope", scope)]
        if let verifier { parameters += [("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256")] }
        return issuer + "/oauth2/authorize?" + parameters.map { AuthorizationChecks.formEscape($0.0) + "=" + AuthorizationChecks.formEscape($0.1) }
            .joined(separator: "&")
    }

    var html: String {
        "<button type=\"button\" class=\"gatehouse-sign-in\" data-authorize=\"\(authorizeLink.replacingOccurrences(of: "&", with: "&amp;"))\">Sign in with \(portalName)</button>"
    }

    static let css = """
        .gatehouse-sign-in {
          display: inline-flex; align-items: center; gap: 0.5rem; padding: 0.6rem 1.1rem;
          border: 1px solid #1f6feb; border-radius: 6px; background: #1f6feb; color: #fff;
          font: 600 15px/1.2 system-ui, sans-serif; cursor: pointer;
        }
        .gatehouse-sign-in:hover { background: #1858c4; }
        """

    static let javascript = """
        document.querySelectorAll(".gatehouse-sign-in").forEach(function (button) {
          button.addEventListener("click", function () {
            window.open(button.dataset.authorize, "gatehouse-sign-in", "width=520,height=700");
          });
        });
        """

    /// The token request (RFC 6749 §4.1.3) with the code from the redirect, as a `curl` line.
    var curl: String {
        var line = "curl -s -u '\(client.clientID.rawValue):YOUR_CLIENT_SECRET' -d grant_type=authorization_code -d \"code=$CODE\""
            + " --data-urlencode 'redirect_uri=\(redirectURI)'"
        if let verifier { line += " -d code_verifier=\(verifier)" }
        return line + " \(issuer)/oauth2/token"
    }

    /// The same with authlib, reading the secret and the address the browser came back to from the
    /// environment; it prints the access token.
    var python: String {
        """
        import os

        import requests
        from authlib.integrations.requests_client import OAuth2Session

        # CLIENT_SECRET: the app's secret. REDIRECTED_TO: the address the browser was sent back to after "Allow".
        client = OAuth2Session("\(client.clientID.rawValue)", os.environ["CLIENT_SECRET"],
                               redirect_uri="\(redirectURI)", scope="\(scope)")
        metadata = requests.get("\(issuer)/.well-known/openid-configuration").json()
        token = client.fetch_token(metadata["token_endpoint"], authorization_response=os.environ["REDIRECTED_TO"]\(verifier.map { ",\n                           code_verifier=\"\($0)\"" } ?? ""))
        print(token["access_token"])
        """
    }

    /// What the page shows.
    var view: [String: Any] {
        var view: [String: Any] = [
            "portalName": portalName, "authorizeLink": authorizeLink, "html": html, "css": Self.css, "javascript": Self.javascript,
            "curl": curl, "python": python, "discovery": issuer + "/.well-known/openid-configuration", "redirectURI": redirectURI,
        ]
        if let verifier { view["verifier"] = verifier }
        return view
    }
}
