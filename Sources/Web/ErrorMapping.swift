import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import OAuthCore
import PortalCore

/// Every failure a route can answer with, as a value; `response(from:context:)` is the one place
/// where they become HTTP.
public enum AppError: Error, Sendable, Equatable {
    /// 400: the request is malformed or a field is out of bounds.
    case badRequest(String)
    /// 400: fields of a registration break its rules; each error names its field and code.
    case validation(FieldErrors)
    /// 401: no valid credentials (sign-in failures use one message for every cause).
    case unauthorized(String)
    /// 403: signed in, but not allowed; or a missing/bad CSRF token.
    case forbidden(String)
    /// 404: nothing here (also for things the caller may not know exist).
    case notFound
    /// 409: the request clashes with what exists (an email already in use).
    case conflict(String)
    /// 405: the path exists, the method does not.
    case methodNotAllowed(allowed: [String])
    /// 413: the body is larger than this route accepts.
    case payloadTooLarge(limit: Int)
    /// 415: the body is not of the type this route reads.
    case unsupportedMediaType(expected: String)
    /// 429: too many attempts; try again after the given seconds.
    case tooManyRequests(retryAfter: Int, message: String)
    /// 503: the database cannot be reached.
    case unavailable
    /// 503 with `Retry-After`: the server is at a bound it keeps (RFC 9110 §15.6.4).
    case busy(retryAfter: Int, message: String)
    /// 500: a fault of ours; the details go to the log, never to the client.
    case internalError

    /// The HTTP status.
    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest, .validation: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .tooManyRequests: .tooManyRequests
        case .unavailable, .busy: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }

    /// One sentence for the client.
    public var detail: String {
        switch self {
        case .badRequest(let message), .unauthorized(let message), .forbidden(let message), .conflict(let message): message
        case .validation(let errors):
            errors.errors.count == 1 ? errors.errors[0].message : "\(errors.errors.count) fields need attention."
        case .notFound: "Nothing was found at this address."
        case .methodNotAllowed(let allowed): "This address accepts only \(allowed.joined(separator: ", "))."
        case .payloadTooLarge(let limit): "The request body is larger than \(limit) bytes."
        case .unsupportedMediaType(let expected): "The request body must be \(expected)."
        case .tooManyRequests(_, let message), .busy(_, let message): message
        case .unavailable: "The service is temporarily unavailable. Please try again shortly."
        case .internalError: "Something went wrong on our side."
        }
    }

    /// Maps any error thrown below the routes to an `AppError`; unknown errors become 500.
    public static func from(_ error: any Error) -> AppError {
        switch error {
        case let appError as AppError: return appError
        case let httpError as HTTPError:
            switch httpError.status {
            case .notFound: return .notFound
            case .rangeNotSatisfiable: return .badRequest("The requested range is not satisfiable.")
            case .contentTooLarge: return .payloadTooLarge(limit: 0)
            case .badRequest: return .badRequest(httpError.body ?? "The request is malformed.")
            case .unsupportedMediaType: return .unsupportedMediaType(expected: "of a supported type")
            default: return httpError.status.code < 500 ? .badRequest(httpError.body ?? "Bad request.") : .internalError
            }
        case is StorageUnavailable: return .unavailable
        case _ where clientWentAway(error): return .badRequest("The request's body did not arrive whole.")
        default: return .internalError
        }
    }

    /// Whether `error` says that the client went away or broke off its body, not that we failed: the
    /// connection closed or was reset mid-body (the body's parser meets the end too early). A
    /// cancelled request is not among them: Hummingbird cancels requests only when the server stops.
    static func clientWentAway(_ error: any Error) -> Bool {
        switch error {
        case is HTTPParserError: true
        case let error as ChannelError:
            [.ioOnClosedChannel, .eof, .inputClosed, .outputClosed, .alreadyClosed].contains(error)
        case let error as IOError: [ECONNRESET, EPIPE, ETIMEDOUT].contains(error.errnoCode)
        default: false
        }
    }
}

/// Marks errors that mean the database could not be reached (mapped to 503).
public protocol StorageUnavailable: Error {}

/// RFC 9457 problem details, the body of every API error.
public struct ProblemDetails: Codable, Sendable {
    enum CodingKeys: String, CodingKey { case type, title, status, detail, errors }

    /// DocSpace-style field errors, for validation failures.
    public var errors: [FieldError]?
    /// `about:blank`: the status says it all.
    public var type: String = "about:blank"
    /// The status phrase.
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// What went wrong, for a person.
    public var detail: String
}

extension AppError: HTTPResponseError {
    /// API clients get `application/problem+json`; browsers on pages get the HTML error page. This is
    /// the answer on an address no route matched; a route's gate passes its own declaration's format.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try response(from: request, context: context, envelope: PortalAPI.answersInEnvelope(unmatched: request))
    }

    /// The answer, in DocSpace's envelope when `envelope` (the portal API that scopes protect, SPEC §4).
    func response(from request: Request, context: some RequestContext, envelope: Bool) throws -> Response {
        var headers = HTTPFields()
        switch self {
        case .methodNotAllowed(let allowed): headers[.allow] = allowed.joined(separator: ", ")
        case .tooManyRequests(let retryAfter, _), .busy(let retryAfter, _): headers[.retryAfter] = String(retryAfter)
        // RFC 9110 §15.5.2: a 401 names the scheme that would work.
        case .unauthorized: headers[.wwwAuthenticate] = "Bearer realm=\"gatehouse\""
        default: break
        }
        if envelope {
            return PortalAPI.errorResponse(status: status, message: detail, headers: headers)
        }
        if Self.wantsHTML(request) {
            headers[.contentType] = "text/html; charset=utf-8"
            let html = ErrorPage.render(status: status, detail: detail)
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        headers[.contentType] = "application/problem+json"
        var problem = ProblemDetails(title: status.reasonPhrase, status: status.code, detail: detail)
        if case .validation(let fieldErrors) = self { problem.errors = fieldErrors.errors }
        let bytes = (try? StreamingJSONEncoder.encode(problem)) ?? []
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Pages are everything outside `/api/` and the machine endpoints, asked for by a browser.
    static func wantsHTML(_ request: Request) -> Bool {
        let path = request.uri.path
        if path.hasPrefix("/api/") || path.hasPrefix("/oauth2/") || path.hasPrefix("/.well-known/") { return false }
        return request.headers[.accept]?.contains("text/html") ?? false
    }
}

/// The error page that pages show; a fixed template so that it works even when rendering fails.
enum ErrorPage {
    static func render(status: HTTPResponse.Status, detail: String) -> String {
        let title = "\(status.code) \(status.reasonPhrase)"
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTMLEscape.escape(title)) · Gatehouse</title><link rel="stylesheet" href="/static/gatehouse.css"></head>
            <body><main class="card narrow"><h1>\(HTMLEscape.escape(title))</h1>
            <p>\(HTMLEscape.escape(detail))</p><p><a href="/">Back to the portal</a></p></main></body></html>
            """
    }
}

/// HTML escaping for the few strings built outside Mustache.
enum HTMLEscape {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
