import Foundation
import Hummingbird

/// DocSpace's answer shape: `{"response": …, "count": n, "status": 0, "statusCode": 200}`.
struct DocSpaceEnvelope<Body: Encodable & Sendable>: Encodable, Sendable {
    let response: Body
    let count: Int
    let status: Int
    let statusCode: Int

    /// A JSON response wrapping `body`.
    static func response(_ body: Body, count: Int = 1, status: HTTPResponse.Status = .ok) throws -> Response {
        let envelope = DocSpaceEnvelope(response: body, count: count, status: 0, statusCode: status.code)
        return try JSONResponse.make(envelope, status: status)
    }
}

/// JSON bodies with sorted keys and ISO-8601 dates.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, contentType: String = "application/json") throws -> Response {
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
