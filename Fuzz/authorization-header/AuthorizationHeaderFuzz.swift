import HTTPParsing

/// The `Authorization` header reader (RFC 9110 §11.6.2). Promises: a credential it returns is one
/// token68 — never two credentials (no space, comma or tab inside), never a control or non-ASCII
/// byte — and it is exactly what follows the scheme, spaces aside; the media type of a Content-Type
/// has no parameters and is lowercase.
func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let header = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    for scheme in ["Bearer", "Basic", "DPoP"] {
        guard let credential = AuthorizationHeader.credentials(header, scheme: scheme) else { continue }
        let bytes = Array(credential.utf8)
        guard isToken68(bytes) else {
            fatalError("promise broken: credential \(String(credential).debugDescription) is not one token68")
        }
        // What follows "<scheme> ": optional spaces or tabs, the credential, optional spaces or tabs; nothing else.
        let rest = Array(header.utf8.dropFirst(scheme.utf8.count + 1))
        let trimmed = rest.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        guard Array(trimmed) == bytes else { fatalError("promise broken: \(header.debugDescription) carried more than one credential") }
        guard Array(header.utf8.prefix(scheme.utf8.count)).map({ (65...90).contains($0) ? $0 + 32 : $0 }) == Array(scheme.lowercased().utf8) else {
            fatalError("promise broken: scheme of \(header.debugDescription) is not \(scheme)")
        }
    }
    // Bytes, not Characters: Swift's String comparison is by canonical equivalence, and U+037E GREEK
    // QUESTION MARK is canonically ";" (the harness's first finding was its own such check).
    let media = AuthorizationHeader.mediaType(header)
    guard !media.utf8.contains(UInt8(ascii: ";")), !media.utf8.contains(where: { (0x41...0x5A).contains($0) }) else {
        fatalError("promise broken: media type \(media.debugDescription)")
    }
    return 0
}

/// RFC 9110 §11.2, written out: one or more of ALPHA DIGIT - . _ ~ + /, then any number of "=".
private func isToken68(_ bytes: [UInt8]) -> Bool {
    let body = bytes.prefix { $0 != UInt8(ascii: "=") }
    let padding = bytes.dropFirst(body.count)
    let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/".utf8)
    return !body.isEmpty && body.allSatisfy(alphabet.contains) && padding.allSatisfy { $0 == UInt8(ascii: "=") }
}
