import Crypto
import Foundation
import GatehouseTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import OAuthCore
import Testing

/// A registered app and what a test needs to drive the code flow against it.
struct TestApp: Sendable {
    let clientID: String
    let secret: String
    let redirectURI: String

    var basic: String { "Basic " + Data("\(clientID):\(secret)".utf8).base64EncodedString() }
}

/// Registers an app through the API as the owner.
func registerApp(
    _ client: any TestClientProtocol, redirectURIs: [String] = ["https://app.example.com/cb"],
    scopes: [String] = ["files:write", "openid", "accounts.self:read"], allowPKCE: Bool = true,
    logoutRedirectURI: String? = nil, origins: [String] = ["https://app.example.com"]
) async throws -> TestApp {
    let token = try await portalToken(client)
    var body = registrationJSON()
    body["redirect_uris"] = redirectURIs
    body["scopes"] = scopes
    body["allow_pkce"] = allowPKCE
    body["allowed_origins"] = origins
    if let logoutRedirectURI { body["logout_redirect_uri"] = logoutRedirectURI }
    let response = try await api(client, .post, "/api/2.0/clients", token: token, json: body)
    #expect(response.status == .created)
    let app = try response.json()
    return TestApp(clientID: try #require(app["client_id"] as? String), secret: try #require(app["client_secret"] as? String),
                   redirectURI: redirectURIs[0])
}

/// A PKCE pair (RFC 7636).
struct PKCEPair {
    let verifier: String
    var challenge: String { PKCE.challenge(for: verifier) }
    static func make() -> PKCEPair { PKCEPair(verifier: OpaqueToken.generate() + "~x") }
}

/// The query of a URL as a dictionary.
func queryItems(_ url: String) -> [String: String] {
    var result: [String: String] = [:]
    for item in URLComponents(string: url)?.queryItems ?? [] { result[item.name] = item.value }
    return result
}

func authorizePath(_ parameters: [String: String?]) -> String {
    "/oauth2/authorize?" + parameters.compactMap { name, value in
        value.map { "\(AuthorizationChecks.formEscape(name))=\(AuthorizationChecks.formEscape($0))" }
    }.sorted().joined(separator: "&")
}

extension Browser {
    /// Opens an authorization URL; when the consent page shows, answers it with `decision`.
    /// Returns the final response (normally a 302 back to the app).
    mutating func authorize(_ client: any TestClientProtocol, _ path: String, decision: String = "allow") async throws -> TestResponse {
        let first = try await get(client, path)
        guard first.status == .ok, first.text.contains("action=\"/oauth2/authorize\"") else { return first }
        var fields = hiddenFields(first.text)
        fields.append(("consent", decision))
        return try await post(client, "/oauth2/authorize", form: fields)
    }

    /// Signs in, authorizes with consent, and answers the code.
    mutating func code(_ client: any TestClientProtocol, app: TestApp, pkce: PKCEPair? = PKCEPair.make(), scope: String = "openid files:read",
                       nonce: String? = "n-1", state: String = "st-1", resources: [String] = []) async throws -> String {
        if cookies["gh_session"] == nil { _ = try await signIn(client) }
        let response = try await authorize(client, authorizePath([
            "response_type": "code", "client_id": app.clientID, "redirect_uri": app.redirectURI, "scope": scope,
            "state": state, "nonce": nonce, "code_challenge": pkce?.challenge, "code_challenge_method": pkce == nil ? nil : "S256",
        ]) + resources.map { "&resource=" + AuthorizationChecks.formEscape($0) }.joined())
        #expect(response.status == .found)
        return try #require(queryItems(response.headers[.location] ?? "")["code"])
    }
}

extension Browser {
    /// The whole code flow with PKCE and Basic authentication: the token response.
    mutating func tokens(_ client: any TestClientProtocol, app: TestApp, scope: String = "openid files:read") async throws -> [String: Any] {
        let pkce = PKCEPair.make()
        let code = try await code(client, app: app, pkce: pkce, scope: scope)
        return try await exchange(client, app: app, code: code, pkce: pkce).json()
    }
}

/// The hidden inputs of a page, HTML-unescaped.
func hiddenFields(_ html: String) -> [(String, String)] {
    var fields: [(String, String)] = []
    var rest = Substring(html)
    while let range = rest.range(of: "<input type=\"hidden\" name=\"") {
        let afterName = rest[range.upperBound...]
        guard let nameEnd = afterName.firstIndex(of: "\"") else { break }
        let name = String(afterName[..<nameEnd])
        let valueStart = afterName[nameEnd...].range(of: "value=\"")!.upperBound
        let valueEnd = afterName[valueStart...].firstIndex(of: "\"")!
        let value = String(afterName[valueStart..<valueEnd])
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&#x2F;", with: "/").replacingOccurrences(of: "&#x3D;", with: "=")
            .replacingOccurrences(of: "&#x60;", with: "`").replacingOccurrences(of: "&amp;", with: "&")
        fields.append((name, value))
        rest = afterName[valueEnd...]
    }
    return fields
}

/// `POST /oauth2/token` with a form and optional Basic credentials.
func tokenRequest(_ client: any TestClientProtocol, _ form: [(String, String)], authorization: String? = nil,
                  contentType: String = "application/x-www-form-urlencoded") async throws -> TestResponse {
    var headers: HTTPFields = [.contentType: contentType]
    if let authorization { headers[.authorization] = authorization }
    return try await client.execute(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: formEncode(form)))
}

/// Exchanges a code with Basic authentication and PKCE.
func exchange(_ client: any TestClientProtocol, app: TestApp, code: String, pkce: PKCEPair?) async throws -> TestResponse {
    var form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", app.redirectURI)]
    if let pkce { form.append(("code_verifier", pkce.verifier)) }
    return try await tokenRequest(client, form, authorization: app.basic)
}

/// Introspects a token as `app`.
func introspect(_ client: any TestClientProtocol, app: TestApp, token: String) async throws -> [String: Any] {
    let response = try await client.execute(
        uri: "/oauth2/introspect", method: .post,
        headers: [.contentType: "application/x-www-form-urlencoded", .authorization: app.basic],
        body: ByteBuffer(string: formEncode([("token", token)]))
    )
    return try response.json()
}

/// The JWKS as verification keys, read back from their JSON (as any client would).
func publishedKeys(_ client: any TestClientProtocol) async throws -> [[String: String]] {
    let response = try await client.execute(uri: "/oauth2/jwks", method: .get)
    return try #require(try response.json()["keys"] as? [[String: String]])
}

/// The claims of a JWT, without checking it (tests check the signature separately).
func claims(of jwt: String) throws -> [String: Any] {
    let parts = jwt.split(separator: ".")
    let payload = try #require(Base64URL.decode(String(parts[1])))
    return try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
}
