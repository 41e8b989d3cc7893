import Foundation
import Hummingbird
import OAuthCore

/// DocSpace's answer shape: `{"response": …, "count": n, "status": 0, "statusCode": 200}`, with
/// `total` when the response is one page of a longer list. Written by `StreamingJSONEncoder`.
struct DocSpaceEnvelope<Body: Encodable & Sendable>: Encodable, Sendable {
    let count: Int
    let response: Body
    let status: Int
    let statusCode: Int
    let total: Int?

    /// A JSON response wrapping `body`.
    static func response(_ body: Body, count: Int = 1, total: Int? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        JSONResponse.bytes(try bytes(body, count: count, total: total, status: status), status: status)
    }

    /// The bytes of `response(_:count:total:status:)`, for a caller that keeps them: the body by
    /// `StreamingJSONEncoder`, the envelope's own four numbers around it (the same members in the same
    /// order as this type's `Encodable` conformance, without a generic container for them).
    static func bytes(_ body: Body, count: Int = 1, total: Int? = nil, status: HTTPResponse.Status = .ok) throws -> [UInt8] {
        let response = try StreamingJSONEncoder.encode(body)
        var json: [UInt8] = []
        json.reserveCapacity(response.count + 64)
        json.append(contentsOf: #"{"count":"#.utf8)
        json.append(contentsOf: String(count).utf8)
        json.append(contentsOf: #","response":"#.utf8)
        json.append(contentsOf: response)
        json.append(contentsOf: #","status":0,"statusCode":"#.utf8)
        json.append(contentsOf: String(status.code).utf8)
        if let total {
            json.append(contentsOf: #","total":"#.utf8)
            json.append(contentsOf: String(total).utf8)
        }
        json.append(UInt8(ascii: "}"))
        return json
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

    /// An `application/json` response of `bytes`.
    static func bytes(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, contentType: String = "application/json") throws -> Response {
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
