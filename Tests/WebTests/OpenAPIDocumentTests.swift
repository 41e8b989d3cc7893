import Foundation
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
@testable import Web

/// The OpenAPI document served at `/api/2.0/openapi.json` (SPEC §8) against the route table the
/// server is built with: every route under `/api/2.0`, `/oauth2` and `/.well-known` is an operation of
/// the document and every operation a route, so a route added without describing it fails here. What
/// the server answers is held to the document by `Tests/Interop/test_openapi_contract.py`.
@Suite struct OpenAPIDocumentTests {
    /// The prefixes whose routes the document describes.
    static let describedPrefixes = ["/api/2.0/", "/oauth2/", "/.well-known/"]

    /// Declared routes under those prefixes that the document leaves out, each with the reason.
    static let leftOut: [String: String] = [
        "OPTIONS /oauth2/token": "a CORS preflight (Fetch §3.2.2), asked by the browser and not an operation of the API",
        "OPTIONS /oauth2/introspect": "a CORS preflight (Fetch §3.2.2), asked by the browser and not an operation of the API",
        "OPTIONS /oauth2/revoke": "a CORS preflight (Fetch §3.2.2), asked by the browser and not an operation of the API",
        "OPTIONS /oauth2/userinfo": "a CORS preflight (Fetch §3.2.2), asked by the browser and not an operation of the API",
        "OPTIONS /oauth2/register": "a CORS preflight (Fetch §3.2.2), asked by the browser and not an operation of the API",
        "OPTIONS /oauth2/register/{client_id}": "a CORS preflight (Fetch §3.2.2), asked by the browser and not an operation of the API",
    ]

    /// The public URL of the test app: with a path, on https, so that every filled-in address shows.
    static let publicURL = "https://portal.example.com/gatehouse"

    /// Keeps the declarations the route table hands over when it is finished.
    final class Declarations: Sendable {
        private let recorded = Mutex<[RouteDeclaration]>([])
        func record(_ declarations: [RouteDeclaration]) { recorded.withLock { $0 = declarations } }
        var all: [RouteDeclaration] { recorded.withLock { $0 } }
    }

    /// `METHOD /path` with Hummingbird's `:name` and `{name}` parameters both written `{name}`, as OpenAPI
    /// 3.1's path templating does.
    static func operationKey(_ method: String, _ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }
        return "\(method.uppercased()) \(segments.joined(separator: "/"))"
    }

    /// The document as the test app serves it, and the route table it was built with.
    static func servedDocument() async throws -> (document: [String: Any], declarations: [RouteDeclaration], response: TestResponse) {
        let declarations = Declarations()
        let response = try await Routes.$finished.withValue({ declarations.record($0) }) {
            try await withTestApp(extra: ["GATEHOUSE_PUBLIC_URL": publicURL]) { client, _ in
                try await client.execute(uri: "/api/2.0/openapi.json", method: .get)
            }
        }
        let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
        return (document, declarations.all, response)
    }

    static func operations(of document: [String: Any]) throws -> [String: [String: Any]] {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var operations: [String: [String: Any]] = [:]
        for (path, item) in paths {
            for (method, operation) in item where ["get", "put", "post", "delete", "options", "head", "patch", "trace"].contains(method) {
                operations[operationKey(method, path)] = try #require(operation as? [String: Any])
            }
        }
        return operations
    }

    @Test func isServedAsOpenAPI31WithThisPortalsAddresses() async throws {
        let (document, _, response) = try await Self.servedDocument()
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        #expect(document["openapi"] as? String == "3.1.0")
        let servers = try #require(document["servers"] as? [[String: Any]])
        #expect(servers.map { $0["url"] as? String } == [Self.publicURL])
        let schemes = try #require((document["components"] as? [String: Any])?["securitySchemes"] as? [String: Any])
        #expect((schemes["sessionCookie"] as? [String: Any])?["name"] as? String == "__Host-gh_session")
        let flow = try #require(((schemes["oauth2"] as? [String: Any])?["flows"] as? [String: Any])?["authorizationCode"] as? [String: Any])
        #expect(flow["authorizationUrl"] as? String == Self.publicURL + "/oauth2/authorize")
        #expect(flow["tokenUrl"] as? String == Self.publicURL + "/oauth2/token")
    }

    /// Every route under the described prefixes is an operation, and every operation a route.
    @Test func describesEveryRouteOfTheTable() async throws {
        let (document, declarations, _) = try await Self.servedDocument()
        let declared = Set(declarations.filter { declaration in Self.describedPrefixes.contains { declaration.path.hasPrefix($0) } }
            .map { Self.operationKey($0.method.rawValue, $0.path) })
        #expect(declared.count > 40, "the route table was not seen: \(declared)")
        #expect(Set(Self.leftOut.keys).subtracting(declared).isEmpty, "left out, but no longer a route")
        let described = Set(try Self.operations(of: document).keys)
        let expected = declared.subtracting(Self.leftOut.keys)
        #expect(expected.subtracting(described).sorted() == [], "routes the document does not describe")
        #expect(described.subtracting(expected).sorted() == [], "operations that are not routes (or routes left out on purpose)")
    }

    /// An operation's OAuth scopes are the ones its route's declaration accepts (SPEC §4), and a route
    /// that takes no OAuth token names none.
    @Test func declaresTheScopesTheRoutesNeed() async throws {
        let (document, declarations, _) = try await Self.servedDocument()
        let operations = try Self.operations(of: document)
        for declaration in declarations {
            guard case .api(let scope, _) = declaration.access else { continue }
            let key = Self.operationKey(declaration.method.rawValue, declaration.path)
            let operation = try #require(operations[key], "\(key) is not described")
            let security = try #require(operation["security"] as? [[String: [String]]], "\(key) declares no security")
            let oauth = Set(security.compactMap { $0["oauth2"] })
            #expect(oauth == Set((scope?.acceptedScopes ?? []).map { [$0] }), "\(key)")
            #expect(security.contains { $0["portalToken"] != nil }, "\(key) takes a portal token")
        }
    }

    /// Every `$ref` names something the document has, and operation ids are unique.
    @Test func referencesResolve() async throws {
        let (document, _, _) = try await Self.servedDocument()
        var references: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let reference = object["$ref"] as? String { references.append(reference) }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(document)
        #expect(!references.isEmpty)
        for reference in Set(references) {
            var node: Any? = document
            for part in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
            #expect(node != nil, "\(reference) does not resolve")
        }
        let ids = try Self.operations(of: document).values.compactMap { $0["operationId"] as? String }
        #expect(ids.count == Set(ids).count, "operation ids repeat")
    }
}
