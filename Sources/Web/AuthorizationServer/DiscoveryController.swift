import Foundation
import Hummingbird
import OAuthCore

/// Discovery (RFC 8414, OpenID Connect Discovery 1.0), the protected-resource metadata of the
/// portal API (RFC 9728) and the JWKS; any origin may read them.
struct DiscoveryController {
    let issuer: String
    let keys: KeyRing
    let portalAPI: ProtectedResource
    let mcp: ProtectedResource?
    /// Whether `POST /oauth2/register` is offered (RFC 8414 §2 `registration_endpoint`).
    let registration: Bool
    /// Whether client metadata documents are taken (SPEC §6 `client_id_metadata_document_supported`).
    let documents: Bool

    struct Metadata: Encodable {
        let issuer: String
        let authorization_endpoint: String
        let token_endpoint: String
        let userinfo_endpoint: String
        let jwks_uri: String
        let introspection_endpoint: String
        let revocation_endpoint: String
        let end_session_endpoint: String
        let registration_endpoint: String?
        let client_id_metadata_document_supported: Bool?
        let scopes_supported: [String]
        let response_types_supported = ["code"]
        let response_modes_supported = ["query"]
        let grant_types_supported = TokenGrants.all.map(\.grantType)
        let code_challenge_methods_supported = ["S256"]
        let token_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post", "none"]
        let introspection_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post"]
        let revocation_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post", "none"]
        let subject_types_supported = ["public"]
        let id_token_signing_alg_values_supported = ["RS256"]
        let claims_supported = ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "name",
                                "given_name", "family_name", "email", "email_verified"]
        let prompt_values_supported = ["none", "login", "consent"]
        let authorization_response_iss_parameter_supported = true
        let request_parameter_supported = false
        let request_uri_parameter_supported = false
        let claims_parameter_supported = false
    }

    func addRoutes(wellKnown: RouteGroup, oauth2: RouteGroup) {
        let metadata = Metadata(
            issuer: issuer, authorization_endpoint: issuer + "/oauth2/authorize", token_endpoint: issuer + "/oauth2/token",
            userinfo_endpoint: issuer + "/oauth2/userinfo", jwks_uri: issuer + "/oauth2/jwks",
            introspection_endpoint: issuer + "/oauth2/introspect", revocation_endpoint: issuer + "/oauth2/revoke",
            end_session_endpoint: issuer + "/oauth2/logout", registration_endpoint: registration ? issuer + "/oauth2/register" : nil,
            client_id_metadata_document_supported: documents ? true : nil, scopes_supported: ScopeCatalog.all.map(\.name)
        )
        // RFC 8414 §3.1: for an issuer with a path, the well-known name goes between host and path;
        // OpenID Connect Discovery §4 appends it to the issuer instead (the plain route, behind a proxy
        // that maps the issuer's path here).
        let issuerPath = URLComponents(string: issuer)?.percentEncodedPath ?? ""
        let inserted = issuerPath.isEmpty || issuerPath == "/" ? [] : ["/oauth-authorization-server" + issuerPath]
        for path in ["/openid-configuration", "/oauth-authorization-server"] + inserted {
            wellKnown.get(path, .anyone) { _, _ in
                var response = try JSONResponse.make(metadata)
                response.headers[.accessControlAllowOrigin] = "*"
                response.headers[.cacheControl] = "public, max-age=300"
                return response
            }
        }
        // RFC 9728 §3: the protected-resource metadata of the portal API and of the MCP server (SPEC §6).
        for resource in [portalAPI, mcp].compactMap({ $0 }) {
            let resourceMetadata = resource.metadata
            wellKnown.get(String(resource.metadataPath.dropFirst("/.well-known".count)), .anyone) { _, _ in
                var response = try JSONResponse.make(resourceMetadata)
                response.headers[.accessControlAllowOrigin] = "*"
                response.headers[.cacheControl] = "public, max-age=300"
                return response
            }
        }
        oauth2.get("/jwks", .anyone) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json", .accessControlAllowOrigin: "*", .cacheControl: "public, max-age=60"],
                body: .init(byteBuffer: keys.jwksDocument)
            )
        }
    }
}
