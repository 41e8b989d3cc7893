/// Whole-file structure checks of the raster icons, so that an icon this server accepts is one that
/// an independent decoder reads too (issue 18: `Fuzz/icon/differential.py` holds them to pngcheck and
/// libjpeg's djpeg). Byte-level and bounded: one pass, no decompression.
enum PNGStructure {
    /// PNG (ISO/IEC 15948 §5, §11): after the signature, chunks of length, type, data and a CRC-32
    /// over type and data; IHDR first (13 bytes, a valid bit depth for its colour type, compression,
    /// filter and interlace methods known); PLTE once, before IDAT, where the colour type needs or
    /// allows one, with no more entries than the bit depth can index; IDAT chunks consecutive; the
    /// ancillary chunks of §5.6 in their places (colour-space chunks before PLTE, tRNS, bKGD, pHYs…
    /// before IDAT, each once); no unknown critical chunk; IEND last, empty, at the very end. The
    /// compressed pixels are not inflated (an icon is never decoded here).
    static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 8, Array(bytes[0..<8]) == PNGHeader.signature else { return false }
        var index = 8
        var colourType: UInt8?
        var bitDepth: UInt8 = 0
        var sawPalette = false, sawData = false, dataEnded = false
        var seen = Set<String>()
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
                bitDepth = data[data.startIndex + 8]
            case "IHDR":
                return false
            case "PLTE":
                guard !sawPalette, !sawData, length > 0, length % 3 == 0, length / 3 <= 256, colourType != 0, colourType != 4,
                      colourType != 3 || length / 3 <= 1 << Int(bitDepth),
                      seen.isDisjoint(with: ["bKGD", "hIST", "tRNS"])
                else { return false }
                sawPalette = true
            case "IDAT":
                guard !dataEnded, colourType != 3 || sawPalette else { return false }
                sawData = true
            case "IEND":
                return length == 0 && sawData && index + 12 == bytes.count
            case "cHRM", "gAMA", "iCCP", "sBIT", "sRGB":
                // §5.6: before PLTE and IDAT, at most once (iCCP and sRGB exclude each other).
                guard !sawPalette, !sawData, !seen.contains(name), !(name == "iCCP" && seen.contains("sRGB")),
                      !(name == "sRGB" && seen.contains("iCCP"))
                else { return false }
            case "bKGD", "hIST", "tRNS", "pHYs", "oFFs", "sCAL":
                // §5.6: before IDAT, at most once; hIST only with a palette.
                guard !sawData, !seen.contains(name), name != "hIST" || sawPalette else { return false }
            default:
                guard type[0] & 0x20 != 0 else { return false }  // an unknown critical chunk
                guard name != "sPLT" || !sawData else { return false }
            }
            seen.insert(name)
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
    /// baseline, extended or progressive 8-bit frame of 1 or 3 components with whole sampling ratios
    /// (factors 1–4, at most 10 blocks an MCU);
    /// quantization tables (DQT) of 64 values, defined before a scan needs them; Huffman tables (DHT)
    /// whose counts describe a code that fits (no more codes of a length than that length allows);
    /// scans (SOS) naming the frame's components and defined Huffman tables, with progressive
    /// parameters libjpeg accepts, followed by entropy-coded data up to the next marker (not decoded);
    /// and EOI. Arithmetic coding, lossless and hierarchical frames are refused.
    static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return false }
        var index = 2
        var components: [(id: UInt8, table: UInt8)] = []
        var progressive = false
        var quantization = Set<UInt8>()
        // Huffman tables defined, as class << 4 | id. libjpeg's sequential decoder supplies the standard
        // tables 0 and 1 when missing (jdhuff.c, std_huff_tables); its progressive one does not (jdphuff.c:
        // "Huffman table 0x00 was not defined"; found by Fuzz/icon/differential.py).
        var huffman = Set<UInt8>()
        let standardHuffman: Set<UInt8> = [0x00, 0x01, 0x10, 0x11]
        var scans = 0
        var scanned = Set<UInt8>()
        while index + 2 <= bytes.count {
            guard bytes[index] == 0xFF else { return false }
            let marker = bytes[index + 1]
            if marker == 0xFF { index += 1; continue }  // fill bytes
            index += 2
            // Bytes after EOI are ignored, as libjpeg ignores them (some cameras append data).
            if marker == 0xD9 { return !components.isEmpty && scans > 0 }
            guard index + 2 <= bytes.count else { return false }
            let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
            guard length >= 2, index + length <= bytes.count else { return false }
            let segment = Array(bytes[(index + 2)..<(index + length)])
            switch marker {
            case 0xC0, 0xC1, 0xC2:
                guard components.isEmpty, segment.count >= 6, segment[0] == 8 else { return false }
                // Grey or colour (YCbCr): what a PNM-writing decoder turns into pixels.
                let count = Int(segment[5])
                guard count == 1 || count == 3, segment.count == 6 + 3 * count else { return false }
                var factors: [(h: Int, v: Int)] = []
                for component in 0..<count {
                    let sampling = segment[7 + 3 * component], table = segment[8 + 3 * component]
                    guard (1...4).contains(sampling >> 4), (1...4).contains(sampling & 0x0F), table <= 3 else { return false }
                    components.append((segment[6 + 3 * component], table))
                    factors.append((Int(sampling >> 4), Int(sampling & 0x0F)))
                }
                // libjpeg: at most 10 blocks in an interleaved MCU, and whole sampling ratios only.
                let maxH = factors.map(\.h).max()!, maxV = factors.map(\.v).max()!
                guard Set(components.map(\.id)).count == count, count == 1 || factors.reduce(0, { $0 + $1.h * $1.v }) <= 10,
                      factors.allSatisfy({ maxH % $0.h == 0 && maxV % $0.v == 0 })
                else { return false }
                progressive = marker == 0xC2
            case 0xC4:
                guard let defined = huffmanTables(segment) else { return false }
                huffman.formUnion(defined)
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
                guard Set(named).count == count, named.allSatisfy(known.contains) else { return false }
                // Sequential: each component in one scan only, so nothing may follow a scan that completed
                // the image (libjpeg: "Didn't expect more than one scan"; found by Fuzz/icon/differential.py).
                if !progressive {
                    guard scanned.isDisjoint(with: named) else { return false }
                    scanned.formUnion(named)
                }
                let start = segment[1 + 2 * count], end = segment[2 + 2 * count], approximation = segment[3 + 2 * count]
                let high = approximation >> 4, low = approximation & 0x0F
                if progressive {
                    // T.81 §G.1.1.1.1 as libjpeg checks it: a DC scan (Ss = 0) has Se = 0, an AC scan one
                    // component; a refinement lowers the point transform by one.
                    guard start <= end, end <= 63, high <= 13, low <= 13, start == 0 ? end == 0 : count == 1,
                          high == 0 || low == high - 1
                    else { return false }
                } else {
                    guard start == 0, end == 63, approximation == 0 else { return false }
                }
                // The Huffman tables each component names must be defined (DC unless an AC-only scan,
                // AC unless a DC-only one).
                let available = progressive ? huffman : huffman.union(standardHuffman)
                for component in 0..<count {
                    let tables = segment[2 + 2 * component]
                    let needsDC = !progressive || (start == 0 && high == 0), needsAC = !progressive || start > 0
                    guard !needsDC || available.contains(tables >> 4), !needsAC || available.contains(0x10 | tables & 0x0F) else { return false }
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
    /// counts must describe a prefix code that leaves the all-ones code unused, and a DC table's values
    /// be at most 15 (libjpeg's jdhuff refuses either as a bogus table). The tables defined, as
    /// class << 4 | id; `nil` when the segment is not valid.
    private static func huffmanTables(_ segment: [UInt8]) -> Set<UInt8>? {
        var at = 0
        var defined = Set<UInt8>()
        while at < segment.count {
            let tableClass = segment[at] >> 4, id = segment[at] & 0x0F
            guard tableClass <= 1, id <= 3, at + 17 <= segment.count else { return nil }
            let counts = segment[(at + 1)..<(at + 17)].map(Int.init)
            let total = counts.reduce(0, +)
            guard total <= 256, at + 17 + total <= segment.count else { return nil }
            var code = 0
            for (bits, count) in counts.enumerated() {
                code += count
                guard code < 1 << (bits + 1) else { return nil }
                code <<= 1
            }
            if tableClass == 0, segment[(at + 17)..<(at + 17 + total)].contains(where: { $0 > 15 }) { return nil }
            defined.insert(tableClass << 4 | id)
            at += 17 + total
        }
        return defined.isEmpty ? nil : defined
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
