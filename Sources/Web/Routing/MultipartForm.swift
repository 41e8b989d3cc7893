import Foundation
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

    /// Reads the request (never more than `limit` bytes); 415 when it is not multipart, 400 when it is malformed.
    static func read(_ request: Request, limit: Int) async throws -> MultipartForm {
        guard RequestBody.mediaType(request) == "multipart/form-data",
              let boundary = boundary(of: request.headers.value(.contentType) ?? "")
        else { throw AppError.unsupportedMediaType(expected: "multipart/form-data") }
        let buffer = try await RequestBody.collect(request, limit: limit)
        guard let parts = parse(buffer, boundary: boundary) else {
            throw AppError.badRequest("The form data is malformed.")
        }
        return MultipartForm(parts: parts)
    }

    /// RFC 2046 §5.1.1 / RFC 7578: parts between `--boundary` lines, each with headers, a blank line
    /// and content up to `CRLF--boundary`. Searching is `memchr` and `memcmp`, so a 20 MB file costs
    /// one scan at memory speed, and each part's content shares the body's bytes rather than copying them.
    static func parse(_ body: ByteBuffer, boundary: String) -> [Part]? {
        body.withUnsafeReadableBytes { bytes in
            parse(bytes, boundary: boundary) { range in
                body.getSlice(at: body.readerIndex + range.lowerBound, length: range.count).map(Data.init(sharing:)) ?? Data()
            }
        }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, boundary: String, content: (Range<Int>) -> Data) -> [Part]? {
        let delimiter = Array("--\(boundary)".utf8)
        let nextDelimiter = Array("\r\n--\(boundary)".utf8)
        let blankLine = Array("\r\n\r\n".utf8)
        func find(_ needle: [UInt8], from start: Int) -> Int? {
            guard start <= bytes.count, let first = needle.first, let base = bytes.baseAddress else { return nil }
            var index = start
            // memchr finds each candidate first byte at memory speed; memcmp confirms the rest.
            while index + needle.count <= bytes.count, let hit = memchr(base + index, Int32(first), bytes.count - index) {
                let position = base.distance(to: UnsafeRawPointer(hit))
                guard position + needle.count <= bytes.count else { return nil }
                if needle.withUnsafeBytes({ memcmp(base + position, $0.baseAddress!, needle.count) }) == 0 { return position }
                index = position + 1
            }
            return nil
        }
        func starts(with prefix: String, at index: Int) -> Bool {
            let prefix = Array(prefix.utf8)
            return index + prefix.count <= bytes.count && bytes[index..<(index + prefix.count)].elementsEqual(prefix)
        }
        guard !bytes.isEmpty, var position = find(delimiter, from: 0) else { return nil }
        position += delimiter.count
        var parts: [Part] = []
        while true {
            if starts(with: "--", at: position) { return parts }
            // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
            while position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") { position += 1 }
            guard starts(with: "\r\n", at: position), let headerEnd = find(blankLine, from: position) else { return nil }
            let headerText = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(position + 2)..<max(position + 2, headerEnd)]), as: UTF8.self)
            let contentStart = headerEnd + blankLine.count
            guard let contentEnd = find(nextDelimiter, from: contentStart) else { return nil }
            var headers: [(String, String)] = []
            for line in headerText.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            let disposition = parameters(headers.first { $0.0 == "content-disposition" }?.1 ?? "")
            if let name = disposition["name"] {
                parts.append(Part(name: name, filename: disposition["filename"], contentType: headers.first { $0.0 == "content-type" }?.1,
                                  data: content(contentStart..<contentEnd)))
            }
            position = contentEnd + nextDelimiter.count
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

    static func boundary(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.count > 70 ? nil : value
            }
        }
        return nil
    }

    /// The parameters of a `Content-Disposition` value (`name`, `filename`), quotes removed.
    static func parameters(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            result[pair[0].lowercased()] = value
        }
        return result
    }
}
