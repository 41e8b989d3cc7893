import Foundation
import Hummingbird
import OAuthCore

/// CORS for the OAuth endpoints (SPEC §3): an actual request gets `Access-Control-Allow-Origin`
/// only when its `Origin` is among the calling app's `allowed_origins`; a preflight (which carries
/// no credentials yet) is answered for origins registered by any enabled app. Credentials are
/// never allowed, so no cookie rides along.
public final class OAuthCORS: Sendable {
    private let store: any ClientStore

    public init(store: any ClientStore) { self.store = store }

    /// Adds the CORS headers when `client` allows the request's origin.
    func decorate(_ response: inout Response, request: Request, clientOrigins: [String]?) {
        guard let origin = request.headers.value(.origin) else { return }
        response.headers[.vary] = "Origin"
        if let clientOrigins, clientOrigins.contains(origin) {
            response.headers[.accessControlAllowOrigin] = origin
        }
    }

    /// The answer to `OPTIONS` on an OAuth endpoint.
    func preflight(_ request: Request, methods: String) async throws -> Response {
        var response = Response(status: .noContent, headers: [.vary: "Origin"])
        guard let origin = request.headers.value(.origin), try await registeredOrigins().contains(origin) else { return response }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlAllowMethods] = methods
        response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
        response.headers[.accessControlMaxAge] = "600"
        return response
    }

    /// Origins registered by any enabled app; `ClientCache` keeps them briefly and drops them when an app changes.
    private func registeredOrigins() async throws -> Set<String> { try await store.enabledOrigins() }
}
