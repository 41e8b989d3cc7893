import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// A `multipart/form-data` body (RFC 7578), read whole up to a limit: used by the forms that
/// upload an icon. Parsing is multipart-kit's; this gathers the parts.
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

    /// Reads the request; 415 when it is not multipart, 400 when it is malformed.
    static func read(_ request: Request, limit: Int) async throws -> MultipartForm {
        guard RequestBody.mediaType(request) == "multipart/form-data",
              let boundary = boundary(of: request.headers[.contentType] ?? "")
        else { throw AppError.unsupportedMediaType(expected: "multipart/form-data") }
        let buffer = try await RequestBody.collect(request, limit: limit)
        let collector = Collector()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.header(name, value) }
        parser.onBody = { body in collector.body(&body) }
        parser.onPartComplete = { collector.complete() }
        do {
            try parser.execute(buffer)
        } catch {
            throw AppError.badRequest("The form data is malformed.")
        }
        return MultipartForm(parts: collector.parts)
    }

    /// The first text value of `name`.
    subscript(_ name: String) -> String? { parts.first { $0.name == name && $0.filename == nil }?.text }

    /// Every text value of `name`, in order.
    func all(_ name: String) -> [String] { parts.filter { $0.name == name && $0.filename == nil }.map(\.text) }

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

    /// Gathers parser callbacks; lives within one synchronous `execute`.
    private final class Collector {
        var parts: [Part] = []
        private var headers: [(String, String)] = []
        private var data = Data()

        func header(_ name: String, _ value: String) { headers.append((name.lowercased(), value)) }
        func body(_ buffer: inout ByteBuffer) { data.append(contentsOf: buffer.readableBytesView) }

        func complete() {
            let disposition = headers.first { $0.0 == "content-disposition" }?.1 ?? ""
            let parameters = Self.parameters(disposition)
            if let name = parameters["name"] {
                parts.append(Part(
                    name: name, filename: parameters["filename"],
                    contentType: headers.first { $0.0 == "content-type" }?.1, data: data
                ))
            }
            headers = []
            data = Data()
        }

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
}
