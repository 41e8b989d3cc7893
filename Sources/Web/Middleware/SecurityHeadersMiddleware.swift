import HTTPTypes
import Hummingbird

/// The headers every answer carries (OWASP Secure Headers): no framing, no sniffing, no referrer,
/// and a Content-Security-Policy that allows only this site's own scripts and styles.
/// A route that needs a stricter policy (served icons) sets its own and keeps it.
extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}

struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

    static let alwaysSent: [HTTPField] = [
        HTTPField(name: .xFrameOptions, value: "DENY"), HTTPField(name: .xContentTypeOptions, value: "nosniff"),
        HTTPField(name: .referrerPolicy, value: "no-referrer"),
    ]
    // Made once: a field made from a string checks every byte of its value, on every request otherwise.
    static let policyField = HTTPField(name: .contentSecurityPolicy, value: contentSecurityPolicy)
    static let noStoreField = HTTPField(name: .cacheControl, value: "no-store")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers.append(Self.policyField)
        }
        // Appended, not assigned: no route sets these, and assigning would search the fields first.
        response.headers.append(contentsOf: Self.alwaysSent)
        if response.headers[.cacheControl] == nil {
            response.headers.append(Self.noStoreField)
        }
        return response
    }
}
