import OAuthCore

/// `application/x-www-form-urlencoded` and query strings (OAuthCore's FormURLEncoding), read from any
/// bytes. Promises: parse → serialize → parse gives the same pairs; nothing decoded is larger than
/// three times the input (a byte that is not UTF-8 becomes U+FFFD, three bytes); and a component
/// encoded then decoded is itself.
func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    let pairs = FormURLEncoding.pairs(text)
    let decodedBytes = pairs.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
    guard decodedBytes <= 3 * count else { fatalError("promise broken: \(count) bytes decoded to \(decodedBytes)") }
    let serialized = pairs.map { FormURLEncoding.encode($0.name) + "=" + FormURLEncoding.encode($0.value) }.joined(separator: "&")
    let again = FormURLEncoding.pairs(serialized)
    // A pair with an empty name and value serializes to "=", which reads back as the same pair.
    guard again.count == pairs.count, zip(again, pairs).allSatisfy({ $0.name == $1.name && $0.value == $1.value }) else {
        fatalError("promise broken: parse → serialize → parse differs for \(serialized.debugDescription)")
    }
    for pair in pairs where FormURLEncoding.decode(Array(FormURLEncoding.encode(pair.value).utf8)) != pair.value {
        fatalError("promise broken: encode/decode of \(pair.value.debugDescription)")
    }
    return 0
}
