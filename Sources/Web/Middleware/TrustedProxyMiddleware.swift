import Foundation
import HTTPTypes
import Hummingbird

/// Behind a reverse proxy every request comes from the proxy's address, which would put all clients
/// in one sign-in throttling bucket. When the TCP peer is a trusted proxy (`GATEHOUSE_TRUSTED_PROXIES`),
/// the client is the right-most address of `X-Forwarded-For` that is not itself a trusted proxy
/// (RFC 7239 §5.2's reasoning: only the entries our own proxies appended can be believed).
struct TrustedProxyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trusted: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard trusted.contains(context.clientAddress), let forwarded = request.headers[.xForwardedFor] else {
            return try await next(request, context)
        }
        var context = context
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let client = hops.last(where: { !trusted.contains($0) }) ?? hops.first {
            context.clientAddress = client
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
