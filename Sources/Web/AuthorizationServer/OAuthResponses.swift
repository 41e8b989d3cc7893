import Foundation
import HTTPTypes
import Hummingbird
import OAuthCore

/// RFC 6749 §5.2 error bodies: `{"error", "error_description"}`, 400, or 401 with
/// `WWW-Authenticate` for `invalid_client`. This is where `OAuthError` becomes HTTP.
extension OAuthError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch code {
        case "invalid_client", "invalid_token": .unauthorized
        case "insufficient_scope": .forbidden
        case "server_error": .internalServerError
        default: .badRequest
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store", .pragma: "no-cache"]
        if code == "invalid_client" {
            headers[.wwwAuthenticate] = "Basic realm=\"gatehouse\""
        } else if code == "invalid_token" || code == "insufficient_scope" {
            headers[.wwwAuthenticate] = "Bearer realm=\"gatehouse\", error=\"\(code)\", error_description=\"\(description.replacingOccurrences(of: "\"", with: "'"))\""
        }
        let body = try JSONSerialization.data(withJSONObject: ["error": code, "error_description": description], options: [.sortedKeys])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension HTTPField.Name {
    static let pragma = Self("Pragma")!
    static let accessControlAllowOrigin = Self("Access-Control-Allow-Origin")!
    static let accessControlAllowMethods = Self("Access-Control-Allow-Methods")!
    static let accessControlAllowHeaders = Self("Access-Control-Allow-Headers")!
    static let accessControlMaxAge = Self("Access-Control-Max-Age")!
    static let vary = Self("Vary")!
    static let accessControlRequestMethod = Self("Access-Control-Request-Method")!
}

/// JSON with `Cache-Control: no-store` (RFC 6749 §5.1).
func noStoreJSON(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    var response = JSONResponse.bytes(try StreamingJSONEncoder.encode(value), status: status)
    response.headers[.cacheControl] = "no-store"
    response.headers[.pragma] = "no-cache"
    return response
}
