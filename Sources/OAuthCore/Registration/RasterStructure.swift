/// Whole-file structure checks of the raster icons, so that an icon this server accepts is one that
/// an independent decoder reads too (issue 18: `Fuzz/icon/differential.py` holds them to pngcheck and
/// libjpeg's djpeg). Byte-level and bounded: one pass, no decompression.
enum PNGStructure {
    /// PNG (ISO/IEC 15948 §5, §11): after the signature, chunks of length, type, data and a CRC-32
    /// over type and data; IHDR first (13 bytes, a valid bit depth for its colour type, compression,
    /// filter and interlace methods known); PLTE once, before IDAT, where the colour type needs or
    /// allows one; IDAT chunks consecutive; no unknown critical chunk; IEND last, empty, at the very end.
    static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 8, Array(bytes[0..<8]) == PNGHeader.signature else { return false }
        var index = 8
        var colourType: UInt8?
        var sawPalette = false, sawData = false, dataEnded = false
        while index + 12 <= bytes.count {
            let length = PNGHeader.bigEndian(bytes[index..<(index + 4)])
            guard length <= 0x7FFF_FFFF, index + 12 + length <= bytes.count else { return false }
            let type = Array(bytes[(index + 4)..<(index + 8)])
            // Four ASCII letters, the third (reserved bit) upper case.
            guard type.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }), type[2] & 0x20 == 0 else { return false }
            guard PNGHeader.bigEndian(bytes[(index + 8 + length)..<(index + 12 + length)]) == Int(CRC32.checksum(bytes[(index + 4)..<(index + 8 + length)]))
            else { return false }
            let data = bytes[(index + 8)..<(index + 8 + length)]
            let name = String(decoding: type, as: UTF8.self)
            if name != "IDAT", sawData { dataEnded = true }
            switch name {
            case _ where colourType == nil:
                guard name == "IHDR", length == 13, let kind = validHeader(Array(data)) else { return false }
                colourType = kind
            case "IHDR":
                return false
            case "PLTE":
                guard !sawPalette, !sawData, length > 0, length % 3 == 0, length / 3 <= 256, colourType != 0, colourType != 4 else { return false }
                sawPalette = true
            case "IDAT":
                guard !dataEnded, colourType != 3 || sawPalette else { return false }
                sawData = true
            case "IEND":
                return length == 0 && sawData && index + 12 == bytes.count
            default:
                guard type[0] & 0x20 != 0 else { return false }  // an unknown critical chunk
            }
            index += 12 + length
        }
        return false
    }

    /// IHDR's colour type when its fields are valid (§11.2.2): width and height non-zero, the bit depth
    /// one its colour type allows, compression and filter method 0, interlace method 0 or 1.
    private static func validHeader(_ data: [UInt8]) -> UInt8? {
        let width = PNGHeader.bigEndian(data[0..<4]), height = PNGHeader.bigEndian(data[4..<8])
        let depth = data[8], colour = data[9]
        let depths: [UInt8: Set<UInt8>] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF, depths[colour]?.contains(depth) == true,
              data[10] == 0, data[11] == 0, data[12] <= 1
        else { return nil }
        return colour
    }
}

enum JPEGStructure {
    /// JPEG (ITU T.81 Annex B) as libjpeg decodes it: SOI; marker segments whose lengths fit; one
    /// baseline, extended or progressive 8-bit frame of 1–4 components with sampling factors 1–4;
    /// quantization tables (DQT) of 64 values, defined before a scan needs them; Huffman tables (DHT)
    /// whose counts describe a code that fits (no more codes of a length than that length allows);
    /// scans (SOS) naming the frame's components, followed by entropy-coded data up to the next
    /// marker; and EOI at the very end. Arithmetic coding, lossless and hierarchical frames are refused.
    static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return false }
        var index = 2
        var components: [(id: UInt8, table: UInt8)] = []
        var progressive = false
        var quantization = Set<UInt8>()
        var scans = 0
        while index + 2 <= bytes.count {
            guard bytes[index] == 0xFF else { return false }
            let marker = bytes[index + 1]
            if marker == 0xFF { index += 1; continue }  // fill bytes
            index += 2
            if marker == 0xD9 { return !components.isEmpty && scans > 0 && index == bytes.count }
            guard index + 2 <= bytes.count else { return false }
            let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
            guard length >= 2, index + length <= bytes.count else { return false }
            let segment = Array(bytes[(index + 2)..<(index + length)])
            switch marker {
            case 0xC0, 0xC1, 0xC2:
                guard components.isEmpty, segment.count >= 6, segment[0] == 8 else { return false }
                let count = Int(segment[5])
                guard (1...4).contains(count), segment.count == 6 + 3 * count else { return false }
                for component in 0..<count {
                    let sampling = segment[7 + 3 * component], table = segment[8 + 3 * component]
                    guard (1...4).contains(sampling >> 4), (1...4).contains(sampling & 0x0F), table <= 3 else { return false }
                    components.append((segment[6 + 3 * component], table))
                }
                guard Set(components.map(\.id)).count == count else { return false }
                progressive = marker == 0xC2
            case 0xC4:
                guard validHuffmanTables(segment) else { return false }
            case 0xDB:
                var at = 0
                while at < segment.count {
                    let precision = segment[at] >> 4, id = segment[at] & 0x0F
                    guard precision <= 1, id <= 3, at + 1 + 64 * (Int(precision) + 1) <= segment.count else { return false }
                    quantization.insert(id)
                    at += 1 + 64 * (Int(precision) + 1)
                }
                guard at > 0 else { return false }
            case 0xDD:
                guard segment.count == 2 else { return false }
            case 0xDA:
                guard !components.isEmpty, let count = segment.first.map(Int.init), (1...4).contains(count),
                      segment.count == 1 + 2 * count + 3, components.allSatisfy({ quantization.contains($0.table) })
                else { return false }
                let known = Set(components.map(\.id))
                let named = (0..<count).map { segment[1 + 2 * $0] }
                guard Set(named).count == count, named.allSatisfy(known.contains),
                      (0..<count).allSatisfy({ segment[2 + 2 * $0] >> 4 <= 3 && segment[2 + 2 * $0] & 0x0F <= 3 })
                else { return false }
                let start = segment[1 + 2 * count], end = segment[2 + 2 * count], approximation = segment[3 + 2 * count]
                if progressive {
                    guard start <= end, end <= 63, approximation >> 4 <= 13, approximation & 0x0F <= 13 else { return false }
                } else {
                    guard start == 0, end == 63, approximation == 0 else { return false }
                }
                scans += 1
                // Entropy-coded data: to the next marker that is neither a stuffed zero nor a restart.
                var next = index + length
                while next < bytes.count {
                    if bytes[next] == 0xFF, next + 1 < bytes.count {
                        let following = bytes[next + 1]
                        if following == 0x00 || (0xD0...0xD7).contains(following) { next += 2; continue }
                        if following == 0xFF { next += 1; continue }
                        break
                    }
                    next += 1
                }
                index = next
                continue
            case 0xE0...0xEF, 0xFE:
                break  // application data and comments
            default:
                return false  // arithmetic coding, lossless, hierarchical, DNL, stray SOI or RSTn, reserved
            }
            index += length
        }
        return false
    }

    /// DHT (T.81 §B.2.4.2): each table a class (0, 1) and id (0–3), 16 counts, that many values; the
    /// counts must describe a prefix code (libjpeg refuses one that overflows as a bogus table).
    private static func validHuffmanTables(_ segment: [UInt8]) -> Bool {
        var at = 0
        while at < segment.count {
            guard segment[at] >> 4 <= 1, segment[at] & 0x0F <= 3, at + 17 <= segment.count else { return false }
            let counts = segment[(at + 1)..<(at + 17)].map(Int.init)
            let total = counts.reduce(0, +)
            guard total <= 256, at + 17 + total <= segment.count else { return false }
            var code = 0
            for (bits, count) in counts.enumerated() {
                code += count
                guard code <= 1 << (bits + 1) else { return false }
                code <<= 1
            }
            at += 17 + total
        }
        return at > 0
    }
}

/// CRC-32 of ISO 3309 / ITU-T V.42 (polynomial 0xEDB88320, reflected), as PNG's chunks carry it.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
