import Foundation
import GatehouseApp
import GatehouseTestSupport
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Storage
import OAuthCore
import PortalCore
import Testing

/// The owner every test app starts with.
let ownerEmail = "owner@example.com"
let ownerPassword = "owner-password-1"

/// The metrics token of test apps, and the header that sends it.
let testMetricsToken = "test-metrics-token-0123456789"
let metricsHeaders: HTTPFields = [.authorization: "Bearer \(testMetricsToken)"]

/// A configuration for a test app on a scratch database; bcrypt at its minimum cost.
func testConfiguration(_ scratch: ScratchDatabase, extra: [String: String] = [:]) throws -> Configuration {
    let environment = [
        "GATEHOUSE_DATA_DIR": scratch.folder,
        "GATEHOUSE_ADMIN_EMAIL": ownerEmail,
        "GATEHOUSE_ADMIN_PASSWORD": ownerPassword,
        "GATEHOUSE_BCRYPT_COST": "4",
        "GATEHOUSE_LOG_LEVEL": "error",
        // Tests register many apps quickly; the budgets themselves are tested with their defaults.
        "GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE": "100000",
        "GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE": "100000",
        "GATEHOUSE_CLIENTS_API_READS_PER_MINUTE": "100000",
        "GATEHOUSE_METRICS_TOKEN": testMetricsToken,
    ]
    var configuration = try Configuration.fromEnvironment(environment.merging(extra) { $1 })
    configuration.database = scratch.location
    return configuration
}

/// Runs `body` against a fresh app on a fresh database of `kind`, through the real router.
func withTestApp<T: Sendable>(
    _ kind: TestDatabaseKind = .sqlite, extra: [String: String] = [:], clock: any TimeSource = SystemTime(),
    _ body: @Sendable (any TestClientProtocol, ScratchDatabase) async throws -> T
) async throws -> T {
    let scratch = try await ScratchDatabase.make(kind)
    do {
        let app = try await buildApplication(configuration: try testConfiguration(scratch, extra: extra), clock: clock, announce: { _ in })
        let value = try await app.test(.router) { client in try await body(client, scratch) }
        await scratch.remove()
        return value
    } catch {
        await scratch.remove()
        throw error
    }
}

/// Counts the rows of `table` through a connection of the test's own.
func rowCount(_ table: String, in scratch: ScratchDatabase) async throws -> Int {
    try await scratch.inspect { database in
        try await database.read {
            try await $0.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }

    /// The value of the cookie `name` set by this response.
    func cookie(_ name: String) -> String? {
        setCookieLine(name)?.split(separator: ";").first.map { String($0.dropFirst(name.count + 1)) }
    }

    /// The whole `Set-Cookie` line of `name`.
    func setCookieLine(_ name: String) -> String? {
        headers[values: .setCookie].first { $0.hasPrefix(name + "=") }
    }

    /// The JSON body.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
    }
}

/// What a browser keeps between requests: cookies, and the CSRF token of the last form it saw.
struct Browser: Sendable {
    var cookies: [String: String] = [:]

    var cookieHeader: String { cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }

    mutating func remember(_ response: TestResponse) {
        for line in response.headers[values: .setCookie] {
            guard let pair = line.split(separator: ";").first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            if value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
        }
    }

    var headers: HTTPFields {
        var fields = HTTPFields()
        if !cookies.isEmpty { fields[.cookie] = cookieHeader }
        fields[.accept] = "text/html"
        // What a browser says of a request its page made on the portal's own origin (Fetch Metadata).
        fields[HTTPField.Name("Sec-Fetch-Site")!] = "same-origin"
        return fields
    }

    /// GET with the browser's cookies.
    mutating func get(_ client: any TestClientProtocol, _ path: String) async throws -> TestResponse {
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        remember(response)
        return response
    }

    /// POST a URL-encoded form with the browser's cookies.
    mutating func post(_ client: any TestClientProtocol, _ path: String, form: [(String, String)]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/x-www-form-urlencoded"
        let response = try await client.execute(
            uri: path, method: .post, headers: fields, body: ByteBuffer(string: formEncode(form))
        )
        remember(response)
        return response
    }

    /// Loads `/login` and signs in with the form, answering the POST's response.
    mutating func signIn(_ client: any TestClientProtocol, email: String = ownerEmail, password: String = ownerPassword,
                         redirect: String? = nil) async throws -> TestResponse {
        let page = try await get(client, "/login")
        let token = try #require(csrfToken(in: page.text))
        var form = [("csrf_token", token), ("email", email), ("password", password)]
        if let redirect { form.append(("redirect", redirect)) }
        return try await post(client, "/login", form: form)
    }
}

/// `a=b&c=d` with form escaping.
func formEncode(_ pairs: [(String, String)]) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._*")
    return pairs.map { name, value in
        let escape = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        return escape(name) + "=" + escape(value)
    }.joined(separator: "&")
}

/// The value of the hidden `csrf_token` field in a page.
func csrfToken(in html: String) -> String? {
    guard let range = html.range(of: "name=\"csrf_token\" value=\"") else { return nil }
    let rest = html[range.upperBound...]
    return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
}

/// A JSON request body.
func jsonBody(_ object: [String: Any]) throws -> ByteBuffer {
    ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
}

/// Adds a person through the administration used by `gatehouse users add`.
@discardableResult
func addPerson(_ scratch: ScratchDatabase, email: String, role: Role, password: String = "person-password-1") async throws -> Person {
    try await scratch.inspect { database in
        try await PeopleAdministration(database: database, bcryptCost: 4).add(email: email, password: password, role: role)
    }
}

/// Signs in through `POST /api/2.0/authentication` and answers the portal token.
func portalToken(_ client: any TestClientProtocol, email: String = ownerEmail, password: String = ownerPassword) async throws -> String {
    let response = try await client.execute(
        uri: "/api/2.0/authentication", method: .post, headers: [.contentType: "application/json"],
        body: try jsonBody(["userName": email, "password": password])
    )
    let body = try #require(try response.json()["response"] as? [String: Any])
    return try #require(body["token"] as? String)
}

/// A JSON API call with a portal token.
func api(
    _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String?, json: [String: Any]? = nil
) async throws -> TestResponse {
    var headers = HTTPFields()
    if let token { headers[.authorization] = "Bearer \(token)" }
    var body: ByteBuffer?
    if let json {
        headers[.contentType] = "application/json"
        body = try jsonBody(json)
    }
    return try await client.execute(uri: path, method: method, headers: headers, body: body)
}
