import Foundation

/// A `multipart/form-data` body (RFC 7578, RFC 2046 §5.1.1) as bytes strangers send: where each part's
/// name, file name, type and content are. Our own reader (docs/decisions/multipart-parser.md), fuzzed:
/// Fuzz/multipart.
public enum MultipartBody {
    /// One field or file: its content is `bytes[content]` of the body parsed.
    public struct Part: Sendable, Equatable {
        public let name: String
        public let filename: String?
        public let contentType: String?
        public let content: Range<Int>
    }

    /// Why a body is not a form this server takes.
    public enum Refusal: Error, Equatable {
        /// Not `multipart/form-data` as RFC 7578 writes it.
        case malformed
        /// More parts than the form may have.
        case tooManyParts(maximum: Int)
        /// A part's header lines are longer than `maximumHeaderBytes`.
        case headersTooLong
    }

    /// The header lines of one part, at most: a name, a file name and a type need far less.
    public static let maximumHeaderBytes = 8 * 1024

    /// The parse itself. Each part costs one search for the end of its headers (within
    /// `maximumHeaderBytes`) and one for the next delimiter, each starting where the last ended, so the
    /// whole body is scanned once; the count of parts is checked before a part is read, so a body of
    /// 100,000 tiny parts is refused after reading `maximumParts` of them.
    public static func parse(_ bytes: UnsafeRawBufferPointer, boundary: String, maximumParts: Int) throws(Refusal) -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        let nextDelimiter = Array("\r\n--\(boundary)".utf8)
        let blankLine = Array("\r\n\r\n".utf8)
        func find(_ needle: [UInt8], from start: Int, within end: Int = bytes.count) -> Int? {
            let end = min(end, bytes.count)
            guard start <= end, let first = needle.first, let base = bytes.baseAddress else { return nil }
            var index = start
            // memchr finds each candidate first byte at memory speed; memcmp confirms the rest.
            while index + needle.count <= end, let hit = memchr(base + index, Int32(first), end - index) {
                let position = base.distance(to: UnsafeRawPointer(hit))
                guard position + needle.count <= end else { return nil }
                if needle.withUnsafeBytes({ memcmp(base + position, $0.baseAddress!, needle.count) }) == 0 { return position }
                index = position + 1
            }
            return nil
        }
        func starts(with prefix: String, at index: Int) -> Bool {
            let prefix = Array(prefix.utf8)
            return index + prefix.count <= bytes.count && bytes[index..<(index + prefix.count)].elementsEqual(prefix)
        }
        guard !bytes.isEmpty, var position = find(delimiter, from: 0) else { throw .malformed }
        position += delimiter.count
        var parts: [Part] = []
        var count = 0
        while true {
            if starts(with: "--", at: position) { return parts }
            guard count < maximumParts else { throw .tooManyParts(maximum: maximumParts) }
            count += 1
            // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
            while position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") { position += 1 }
            guard starts(with: "\r\n", at: position) else { throw .malformed }
            // The blank line may be at once (no headers: its CRLF is the delimiter's) or within the limit.
            guard let headerEnd = find(blankLine, from: position, within: position + maximumHeaderBytes + blankLine.count) else {
                throw find(blankLine, from: position) == nil ? .malformed : .headersTooLong
            }
            let headerText = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(position + 2)..<max(position + 2, headerEnd)]), as: UTF8.self)
            let contentStart = headerEnd + blankLine.count
            guard let contentEnd = find(nextDelimiter, from: contentStart) else { throw .malformed }
            var headers: [(String, String)] = []
            for line in headerText.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            let disposition = parameters(headers.first { $0.0 == "content-disposition" }?.1 ?? "")
            if let name = disposition["name"] {
                parts.append(Part(name: name, filename: disposition["filename"], contentType: headers.first { $0.0 == "content-type" }?.1,
                                  content: contentStart..<contentEnd))
            }
            position = contentEnd + nextDelimiter.count
        }
    }

    public static func boundary(of contentType: String) -> String? {
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
    public static func parameters(_ header: String) -> [String: String] {
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
