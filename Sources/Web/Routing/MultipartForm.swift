import Foundation
import HTTPParsing
import Hummingbird
import NIOCore
import Storage

/// A `multipart/form-data` body (RFC 7578), read whole up to a limit: the icon forms and file uploads.
struct MultipartForm: Sendable {
    /// One field or file.
    struct Part: Sendable {
        let name: String
        let filename: String?
        let contentType: String?
        let data: Data

        var text: String { String(decoding: data, as: UTF8.self) }
    }

    let parts: [Part]

    typealias Refusal = MultipartBody.Refusal
    static let maximumHeaderBytes = MultipartBody.maximumHeaderBytes

    /// Reads the request (never more than `limit` bytes); 415 when it is not multipart, 400 when it is
    /// malformed, has more than `maximumParts` parts or a part with headers over 8 KiB.
    static func read(_ request: Request, limit: Int, maximumParts: Int) async throws -> MultipartForm {
        guard RequestBody.mediaType(request) == "multipart/form-data",
              let boundary = boundary(of: request.headers.value(.contentType) ?? "")
        else { throw AppError.unsupportedMediaType(expected: "multipart/form-data") }
        let buffer = try await RequestBody.collect(request, limit: limit)
        do {
            return MultipartForm(parts: try parse(buffer, boundary: boundary, maximumParts: maximumParts))
        } catch .malformed {
            throw AppError.badRequest("The form data is malformed.")
        } catch .tooManyParts(let maximum) {
            throw AppError.badRequest("The form has more than \(maximum) parts.")
        } catch .headersTooLong {
            throw AppError.badRequest("A part of the form has more than \(maximumHeaderBytes) bytes of headers.")
        }
    }

    /// RFC 2046 §5.1.1 / RFC 7578: parts between `--boundary` lines, each with headers, a blank line
    /// and content up to `CRLF--boundary`. Searching is `memchr` and `memcmp`, so a 20 MB file costs
    /// one scan at memory speed, and each part's content shares the body's bytes rather than copying them.
    static func parse(_ body: ByteBuffer, boundary: String, maximumParts: Int) throws(Refusal) -> [Part] {
        try body.withUnsafeReadableBytes { (bytes) throws(Refusal) -> [Part] in
            try MultipartBody.parse(bytes, boundary: boundary, maximumParts: maximumParts).map { part in
                let range = part.content
                let data = body.getSlice(at: body.readerIndex + range.lowerBound, length: range.count).map(Data.init(sharing:)) ?? Data()
                return Part(name: part.name, filename: part.filename, contentType: part.contentType, data: data)
            }
        }
    }

    /// The first text value of `name`.
    subscript(_ name: String) -> String? { parts.first { $0.name == name && $0.filename == nil }?.text }

    /// Every text value of `name`, in order.
    func all(_ name: String) -> [String] { parts.filter { $0.name == name && $0.filename == nil }.map(\.text) }

    /// The file part `name` with a file name, even when empty (uploads of empty files are files too).
    func upload(_ name: String) -> Part? {
        parts.first { $0.name == name && !($0.filename?.isEmpty ?? true) }
    }

    /// The uploaded file of `name`, when one was chosen.
    func file(_ name: String) -> Part? {
        parts.first { $0.name == name && $0.filename != nil && !($0.filename?.isEmpty ?? true) && !$0.data.isEmpty }
    }

    static func boundary(of contentType: String) -> String? { MultipartBody.boundary(of: contentType) }
}
