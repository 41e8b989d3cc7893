import CLibFuzzer
import HTTPParsing

/// The multipart/form-data reader (RFC 7578). The input's first line (up to 70 bytes) is the boundary,
/// the rest the body. Promises: each part's content lies inside the body, right after a blank line and
/// right before CRLF--boundary, and holds no delimiter; parts are in order and do not overlap; never
/// more parts than allowed; the parse allocates at most 64 bytes per input byte (plus 64 KiB); and
/// parse → serialize → parse gives the same parts.
func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: start, count: count))
    guard let newline = input.prefix(71).firstIndex(of: 0x0A), newline > 0 else { return 0 }
    let boundary = String(decoding: input[..<newline], as: UTF8.self)
    guard MultipartBody.boundary(of: "multipart/form-data; boundary=\(boundary)") == boundary else { return 0 }
    let body = Array(input[(newline + 1)...])
    let maximumParts = 16
    let parts: [MultipartBody.Part]
    gatehouse_count_allocations(1)
    do {
        parts = try body.withUnsafeBytes { try MultipartBody.parse($0, boundary: boundary, maximumParts: maximumParts) }
    } catch {
        gatehouse_count_allocations(0)
        return 0
    }
    let allocated = gatehouse_allocated_bytes()
    gatehouse_count_allocations(0)
    guard allocated <= 64 * body.count + 65_536 else { fatalError("promise broken: \(body.count) bytes allocated \(allocated)") }
    for (earlier, later) in zip(parts, parts.dropFirst()) where earlier.content.upperBound + delimiter(boundary).count > later.content.lowerBound {
        fatalError("promise broken: parts out of order or overlapping (\(earlier.content), \(later.content))")
    }
    guard parts.count <= maximumParts else { fatalError("promise broken: \(parts.count) parts") }
    let separator = delimiter(boundary)
    for part in parts {
        let range = part.content
        guard range.lowerBound >= 4, range.upperBound + separator.count <= body.count,
              Array(body[(range.lowerBound - 4)..<range.lowerBound]) == Array("\r\n\r\n".utf8),
              Array(body[range.upperBound..<(range.upperBound + separator.count)]) == separator
        else { fatalError("promise broken: part \(part.name.debugDescription) at \(range) is not between its boundaries") }
        if contains(body[range], separator) { fatalError("promise broken: a part's content holds the delimiter") }
    }
    // Serialize what was read and read it again.
    var serialized: [UInt8] = []
    for part in parts {
        serialized += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\"".utf8)
        if let filename = part.filename { serialized += Array("; filename=\"\(filename)\"".utf8) }
        serialized += Array("\r\n".utf8)
        if let type = part.contentType { serialized += Array("Content-Type: \(type)\r\n".utf8) }
        serialized += Array("\r\n".utf8) + Array(body[part.content]) + Array("\r\n".utf8)
    }
    serialized += Array("--\(boundary)--\r\n".utf8)
    let again: [MultipartBody.Part]
    do {
        again = try serialized.withUnsafeBytes { try MultipartBody.parse($0, boundary: boundary, maximumParts: maximumParts) }
    } catch {
        fatalError("promise broken: the serialized parts are refused (\(error))")
    }
    guard again.count == parts.count else { fatalError("promise broken: \(parts.count) parts became \(again.count)") }
    for (first, second) in zip(parts, again) {
        guard first.name == second.name, first.filename == second.filename, first.contentType == second.contentType,
              body[first.content].elementsEqual(serialized[second.content])
        else { fatalError("promise broken: part \(first.name.debugDescription) changed on the way round") }
    }
    return 0
}

private func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
    guard haystack.count >= needle.count else { return false }
    var index = haystack.startIndex
    while index + needle.count <= haystack.endIndex {
        if haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
        index += 1
    }
    return false
}

private func delimiter(_ boundary: String) -> [UInt8] { Array("\r\n--\(boundary)".utf8) }
