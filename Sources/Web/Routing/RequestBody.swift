import Foundation
import HTTPParsing
import Hummingbird
import NIOCore
import OAuthCore

/// Reading request bodies with explicit types and limits, so a wrong content type is 415, a body
/// that is not what it claims is 400, and nothing else reaches a handler.
enum RequestBody {
    /// The media type without parameters, lowercased.
    static func mediaType(_ request: Request) -> String? {
        request.headers.value(.contentType).map(AuthorizationHeader.mediaType)
    }

    /// Reads at most `limit` bytes, stopping as soon as the body goes past it. A declared
    /// `Content-Length` within the limit sizes the buffer once, so a large upload is not copied again
    /// each time the buffer would grow.
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > limit { throw AppError.payloadTooLarge(limit: limit) }
        var buffer = ByteBufferAllocator().buffer(capacity: min(declared ?? 16 * 1024, limit))
        do {
            for try await chunk in request.body {
                guard buffer.readableBytes + chunk.readableBytes <= limit else { throw AppError.payloadTooLarge(limit: limit) }
                buffer.writeImmutableBuffer(chunk)
            }
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw AppError.payloadTooLarge(limit: limit)
        }
        return buffer
    }

    /// Decodes a JSON body (`application/json` only) into `T`.
    static func json<T: Decodable>(_ type: T.Type, from request: Request, limit: Int = 64 * 1024) async throws -> T {
        guard mediaType(request) == "application/json" else {
            throw AppError.unsupportedMediaType(expected: "application/json")
        }
        let buffer = try await collect(request, limit: limit)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw AppError.badRequest(describe(error))
        } catch {
            throw AppError.badRequest("The body is not valid JSON.")
        }
    }

    /// Reads an `application/x-www-form-urlencoded` body as ordered name/value pairs.
    static func form(from request: Request, limit: Int = 64 * 1024) async throws -> FormFields {
        guard mediaType(request) == "application/x-www-form-urlencoded" else {
            throw AppError.unsupportedMediaType(expected: "application/x-www-form-urlencoded")
        }
        let buffer = try await collect(request, limit: limit)
        return FormFields(encoded: String(buffer: buffer))
    }

    /// A sentence naming the field at fault, without echoing its value.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "The field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)' is required."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "The field '\(path(context.codingPath))' has the wrong type."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The body is not valid JSON." : "The field '\(path(context.codingPath))' is invalid."
        @unknown default:
            return "The body is not valid JSON."
        }
    }
}

/// Name/value pairs of a URL-encoded form or query (WHATWG URL §5.1), in order, duplicates kept.
struct FormFields: Sendable {
    /// The pairs as sent.
    let pairs: [(name: String, value: String)]

    /// Parses `a=1&b=2` (`+` is a space, percent-escapes decoded; bad escapes are kept as text).
    init(encoded: String) { pairs = FormURLEncoding.pairs(encoded) }

    /// The first value of `name`.
    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// How many times `name` occurs.
    func count(of name: String) -> Int { pairs.filter { $0.name == name }.count }
    /// Every value sent under `name` (ticked checkboxes), in order.
    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }
}
