import Foundation
import Hummingbird
import NIOCore
import OAuthCore
import PortalCore

/// What the people, files and rooms routes share (SPEC §4): DocSpace's error envelope, who is
/// calling, and reading numeric ids.
enum PortalAPI {
    /// Whether an error on an address no route matched answers in DocSpace's envelope: the prefixes
    /// of the portal API (SPEC §4). A matched route's own declaration decides for it (`RouteAccess`).
    static func answersInEnvelope(unmatched request: Request) -> Bool {
        let path = request.uri.path
        return path.hasPrefix("/api/2.0/people") || path.hasPrefix("/api/2.0/files") || path.hasPrefix("/api/2.0/keys")
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            let message: String
            let type: String?
        }
        let error: Detail
        let count: Int
        let status: Int
        let statusCode: Int
    }

    /// `{"error": {"message"}, "status": 1, "statusCode": …}`, DocSpace's shape of a failure.
    static func errorResponse(status: HTTPResponse.Status, message: String, type: String? = nil, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let body = ErrorBody(error: .init(message: message, type: type), count: 0, status: 1, statusCode: status.code)
        let bytes = (try? StreamingJSONEncoder.encode(body)) ?? []
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The person calling, by session, portal token or OAuth access token (whose scope the route's
    /// gate has already checked); 401 otherwise.
    static func caller(_ context: AppRequestContext) throws -> Person {
        guard let caller = context.caller else {
            throw AppError.unauthorized("Sign in, or send a portal or OAuth access token as Authorization: Bearer.")
        }
        return caller.person
    }

    /// A numeric id from the path; anything else is 404, as an unknown id is.
    static func numericID(_ context: AppRequestContext, _ name: String) throws -> Int64 {
        guard let text = context.parameters.get(name), let id = Int64(text), id > 0 else { throw AppError.notFound }
        return id
    }

    /// A title checked by `FileTitle`, or 400 naming the rule.
    static func title(_ text: String?) throws -> String {
        guard let text else { throw AppError.badRequest("The field 'title' is required.") }
        switch FileTitle.validate(text) {
        case .success(let title): return title
        case .failure(let error): throw AppError.badRequest(error.description)
        }
    }

    /// The envelope around one page of a list of `total` items.
    static func page<Item: Encodable & Sendable>(_ items: [Item], total: Int) throws -> Response {
        try DocSpaceEnvelope.response(items, count: items.count, total: total)
    }
}
