import Foundation
import Hummingbird
import NIOCore

/// The OpenAPI 3.1 description of the portal API, the clients API and the authorization server
/// (`Resources/openapi.json`, SPEC §8), served at `/api/2.0/openapi.json`. It is read once, when the
/// portal API registers its routes, and the parts that belong to one deployment are filled in: the
/// server (the public URL), the OAuth flow's endpoints and the session cookie's name.
///
/// Every route under `/api/2.0`, `/oauth2` and `/.well-known` is described in it
/// (`OpenAPIDocumentTests`), and the running server is held to it by schemathesis
/// (`Tests/Interop/test_openapi_contract.py`).
struct OpenAPIDocument: Sendable {
    /// The document as served.
    let body: ByteBuffer

    /// Why the bundled document could not be served.
    enum LoadError: Error {
        case missing
        case notAnObject
    }

    /// Reads the bundled document and fills in this deployment's addresses.
    static func load(publicURL: URL, sessionCookieName: String) throws -> OpenAPIDocument {
        guard let root = Bundle.module.resourceURL,
              let file = [root.appendingPathComponent("Resources/openapi.json"), root.appendingPathComponent("openapi.json")]
                  .first(where: { FileManager.default.fileExists(atPath: $0.path) })
        else { throw LoadError.missing }
        guard let document = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] else {
            throw LoadError.notAnObject
        }
        let served = deployed(document, publicURL: publicURL.absoluteString, sessionCookieName: sessionCookieName)
        let bytes = try JSONSerialization.data(withJSONObject: served, options: [.sortedKeys, .withoutEscapingSlashes])
        return OpenAPIDocument(body: ByteBuffer(bytes: bytes))
    }

    /// `document` as this deployment serves it. OpenAPI 3.1, Paths Object: a path is appended to the
    /// server's URL, so the server is the public URL itself (`/api/2.0`, `/oauth2` and `/.well-known`
    /// are part of each path). Relative References in URLs: a relative OAuth Flow URL would resolve
    /// against the server's URL as a base and drop a path the public URL may have, so they are made absolute.
    static func deployed(_ document: [String: Any], publicURL: String, sessionCookieName: String) -> [String: Any] {
        var document = document
        document["servers"] = [["url": publicURL, "description": "This portal."]]
        var components = document["components"] as? [String: Any] ?? [:]
        var schemes = components["securitySchemes"] as? [String: Any] ?? [:]
        if var cookie = schemes["sessionCookie"] as? [String: Any] {
            cookie["name"] = sessionCookieName
            schemes["sessionCookie"] = cookie
        }
        if var oauth = schemes["oauth2"] as? [String: Any], var flows = oauth["flows"] as? [String: Any] {
            for (name, flow) in flows {
                guard var flow = flow as? [String: Any] else { continue }
                for key in ["authorizationUrl", "tokenUrl", "refreshUrl"] {
                    if let path = flow[key] as? String, path.hasPrefix("/") { flow[key] = publicURL + path }
                }
                flows[name] = flow
            }
            oauth["flows"] = flows
            schemes["oauth2"] = oauth
        }
        components["securitySchemes"] = schemes
        document["components"] = components
        // A public URL with a path: RFC 8414 §3.1 and RFC 9728 §3.1 put the well-known name between
        // host and path, so those documents are served (and described) at paths holding it.
        let publicPath = URLComponents(string: publicURL)?.percentEncodedPath ?? ""
        if !publicPath.isEmpty, publicPath != "/", var paths = document["paths"] as? [String: Any] {
            for resource in ["/api/2.0", "/mcp"] {
                if let item = paths.removeValue(forKey: "/.well-known/oauth-protected-resource" + resource) {
                    paths["/.well-known/oauth-protected-resource" + publicPath + resource] = item
                }
            }
            if var item = paths["/.well-known/oauth-authorization-server"] as? [String: Any],
               var operation = item["get"] as? [String: Any] {
                operation["operationId"] = "authorizationServerMetadataPathInserted"
                operation["summary"] = "RFC 8414 §3.1: the same, at the path-inserted address of an issuer with a path"
                item["get"] = operation
                paths["/.well-known/oauth-authorization-server" + publicPath] = item
            }
            document["paths"] = paths
        }
        return document
    }

    /// `200 application/json` with the document.
    var response: Response {
        Response(status: .ok, headers: HTTPFields([JSONResponse.contentType]), body: .init(byteBuffer: body))
    }
}
