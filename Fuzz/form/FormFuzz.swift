import CLibFuzzer
import OAuthCore

/// `application/x-www-form-urlencoded` and query strings (OAuthCore's FormURLEncoding), read from any
/// bytes. Promises: parse → serialize → parse gives the same pairs; nothing decoded is larger than
/// three times the input (a byte that is not UTF-8 becomes U+FFFD, three bytes); the parse allocates
/// at most 256 bytes per input byte (plus 64 KiB); each pair is what a plain reference decoder of the
/// harness's own reads; and a component encoded then decoded is itself.
func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    gatehouse_count_allocations(1)
    let pairs = FormURLEncoding.pairs(text)
    let allocated = gatehouse_allocated_bytes()
    gatehouse_count_allocations(0)
    guard allocated <= 256 * text.utf8.count + 65_536 else { fatalError("promise broken: \(text.utf8.count) bytes allocated \(allocated)") }
    let reference = referencePairs(Array(text.utf8))
    guard reference.count == pairs.count, zip(reference, pairs).allSatisfy({ Array($0.0.utf8) == Array($1.name.utf8) && Array($0.1.utf8) == Array($1.value.utf8) })
    else { fatalError("promise broken: \(text.debugDescription) read differently from the reference decoder") }
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

/// WHATWG URL §5.1's parser, written plainly: split on "&", drop empty pieces, split at the first "=",
/// "+" is a space, "%" and two hex digits a byte (anything else stays), bytes to UTF-8 with U+FFFD.
private func referencePairs(_ bytes: [UInt8]) -> [(String, String)] {
    func decode(_ piece: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var index = piece.startIndex
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 48...57: byte - 48
            case 65...70: byte - 55
            case 97...102: byte - 87
            default: nil
            }
        }
        while index < piece.endIndex {
            let byte = piece[index]
            if byte == 43 {
                out.append(32)
            } else if byte == 37, index + 2 < piece.endIndex, let high = hex(piece[index + 1]), let low = hex(piece[index + 2]) {
                out.append(high * 16 + low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
    return bytes.split(separator: 38, omittingEmptySubsequences: true).map { piece in
        guard let equals = piece.firstIndex(of: 61) else { return (decode(piece), "") }
        return (decode(piece[piece.startIndex..<equals]), decode(piece[(equals + 1)...]))
    }
}
