import Foundation
import OAuthCore

/// A resource this portal protects with OAuth (RFC 9728): where its metadata lives, what the
/// metadata says, and the `WWW-Authenticate` challenge of its refusals, which names that metadata so
/// a client that was given only the resource's address finds the authorization server
/// (RFC 9728 §5.1, SPEC §6).
struct ProtectedResource: Sendable {
    /// The resource identifier, e.g. `https://portal.example/api/2.0`.
    let resource: String
    /// `/.well-known/oauth-protected-resource` inserted between the host and the resource's path
    /// (RFC 9728 §3.1), which holds the public URL's own path, if any: where the metadata is served.
    let metadataPath: String
    let metadataURL: String
    let name: String
    let issuer: String
    let scopes: [String]

    /// The portal API (SPEC §4): every scope of the catalog but OpenID Connect's.
    static func portalAPI(publicURL: URL) -> ProtectedResource {
        ProtectedResource(publicURL: publicURL, path: "/api/2.0", name: "Portal API",
                          scopes: ScopeCatalog.all.filter { $0.type != .openid }.map(\.name))
    }

    /// The MCP server at `/mcp` (SPEC §6): its tools need the portal API's scopes.
    static func mcp(publicURL: URL) -> ProtectedResource {
        // The scopes its tools need, and no more: clients that ask for what the metadata lists ask for these.
        ProtectedResource(publicURL: publicURL, path: "/mcp", name: "Portal MCP server",
                          scopes: ["accounts.self:read", "accounts:read", "files:read", "files:write", "rooms:read", "rooms:write"])
    }

    init(publicURL: URL, path: String, name: String, scopes: [String]) {
        let base = publicURL.absoluteString.hasSuffix("/") ? String(publicURL.absoluteString.dropLast()) : publicURL.absoluteString
        // As written in the URL (percent-escapes kept), so that it can be cut from the string.
        let written = URLComponents(url: publicURL, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
        let publicPath = written == "/" ? "" : written
        self.issuer = publicURL.absoluteString
        self.resource = base + path
        self.metadataPath = "/.well-known/oauth-protected-resource" + publicPath + path
        self.metadataURL = String(base.dropLast(publicPath.count)) + metadataPath
        self.name = name
        self.scopes = scopes
    }

    /// RFC 9728 §2: the metadata document.
    struct Metadata: Encodable {
        let resource: String
        let authorization_servers: [String]
        let scopes_supported: [String]
        let bearer_methods_supported = ["header"]
        let resource_name: String
    }

    var metadata: Metadata {
        Metadata(resource: resource, authorization_servers: [issuer], scopes_supported: scopes, resource_name: name)
    }

    /// RFC 6750 §3 with RFC 9728 §5.1: `error` when a token was sent and did not do, `scope` with what
    /// a call needs when the token lacked it, and always where the resource's metadata is.
    func challenge(error: String? = nil, scope: String? = nil) -> String {
        var parameters = ["realm=\"gatehouse\""]
        if let error { parameters.append("error=\"\(error)\"") }
        if let scope { parameters.append("scope=\"\(scope)\"") }
        parameters.append("resource_metadata=\"\(metadataURL)\"")
        return "Bearer " + parameters.joined(separator: ", ")
    }
}
