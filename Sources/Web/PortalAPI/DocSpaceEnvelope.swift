import Foundation
import HTTPTypes
import Hummingbird
import OAuthCore

/// DocSpace's answer shape: `{"count": n, "response": …, "status": 0, "statusCode": 200}`, with
/// `total` when the response is one page of a longer list.
enum DocSpaceEnvelope {
    /// A JSON response wrapping `body`.
    static func response(_ body: some Encodable, count: Int = 1, total: Int? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        JSONResponse.bytes(try bytes(body, count: count, total: total, status: status), status: status)
    }

    /// The bytes of `response(_:count:total:status:)`, for a caller that keeps them: `body` encoded
    /// by `StreamingJSONEncoder` in place, between the envelope's own members.
    static func bytes(_ body: some Encodable, count: Int = 1, total: Int? = nil, status: HTTPResponse.Status = .ok) throws -> [UInt8] {
        try StreamingJSONEncoder.object { members in
            members.add("count", count)
            try members.add("response", body)
            members.add("status", 0)
            members.add("statusCode", status.code)
            if let total { members.add("total", total) }
        }
    }
}

/// JSON answers. Every JSON body Gatehouse sends is written by `StreamingJSONEncoder`
/// (docs/decisions/streaming-json-encoder.md): members in declaration order, `nil` left out, dates
/// in RFC 3339.
enum JSONResponse {
    /// `Content-Type: application/json`, made once.
    static let contentType = HTTPField(name: .contentType, value: "application/json")

    /// An `application/json` response of `bytes`.
    static func bytes(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: HTTPFields([contentType]), body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, contentType: String = "application/json") throws -> Response {
        let bytes = try StreamingJSONEncoder.encode(value)
        return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
