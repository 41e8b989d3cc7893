import Foundation
import GatehouseTestSupport
import OAuthCore
import Testing

@Suite struct IconTests {
    @Test func a32PixelPNGIsAccepted() throws {
        let icon = try Icon.validate(TestImages.png(width: 32, height: 32)).get()
        #expect(icon.format == .png)
        #expect(icon.format.contentType == "image/png")
    }

    @Test func a32PixelJPEGIsAccepted() throws {
        #expect(try Icon.validate(TestImages.jpeg(width: 32, height: 32)).get().format == .jpeg)
    }

    @Test func aSafeSquareSVGIsAccepted() throws {
        #expect(try Icon.validate(TestImages.svg).get().format == .svg)
        let sized = Data(#"<svg xmlns="http://www.w3.org/2000/svg" width="32px" height="32px"><circle cx="16" cy="16" r="8"/></svg>"#.utf8)
        #expect(try Icon.validate(sized).get().format == .svg)
    }

    static let svgCases: [(String, String)] = [
        ("script", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><script>alert(1)</script></svg>"#),
        ("onload", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" onload="alert(1)"/>"#),
        ("foreignObject", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><foreignObject><div/></foreignObject></svg>"#),
        ("external image", #"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 32 32"><image xlink:href="https://evil.example/x.png"/></svg>"#),
        ("javascript link", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><a href="javascript:alert(1)"><rect width="1" height="1"/></a></svg>"#),
        ("entity", #"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "lol">]><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">&x;</svg>"#),
        ("external style", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style>@import url(https://evil.example/a.css);</style></svg>"#),
        ("css url", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect style="fill:url(https://evil.example/p)"/></svg>"#),
        ("not square", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 32"></svg>"#),
        ("no size", #"<svg xmlns="http://www.w3.org/2000/svg"></svg>"#),
        ("malformed", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect></svg>"#),
        ("html", "<html><body><svg viewBox=\"0 0 1 1\"></svg></body></html>"),
        // The attack pass's references, each past the old denylist (issue 13, finding 7).
        ("escaped url in style", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect style="fill:u\72l(https://evil.example/p)"/></svg>"#),
        ("escaped url in sheet", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style>rect{fill:\75 \72 \6c (https://evil.example/p)}</style></svg>"#),
        ("escaped import", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style>@\69mport 'https://evil.example/a.css';</style></svg>"#),
        ("commented import", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style>@im/**/port 'https://evil.example/a.css';</style></svg>"#),
        ("image-set", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect style='fill:image-set("https://evil.example/p" 1x)'/></svg>"#),
        ("set href", ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><use href="#a"><set attributeName="href" to="https://evil.example/x.svg#a"/></use></svg>"##),
        ("animate href", ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><use href="#a"><animate attributeName="href" values="https://evil.example/x.svg#a"/></use></svg>"##),
        ("xhtml meta refresh", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><meta xmlns="http://www.w3.org/1999/xhtml" http-equiv="refresh" content="0;url=https://evil.example/"/></svg>"#),
        ("xhtml namespace on an allowed name", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><g xmlns="http://www.w3.org/1999/xhtml"/></svg>"#),
        ("a ping", ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><a href="#x" ping="https://evil.example/track"><rect width="1" height="1"/></a></svg>"##),
        ("image element", ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><image href="#x"/></svg>"##),
        ("feImage", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><filter id="f"><feImage href="https://evil.example/i.png"/></filter></svg>"#),
        ("external use", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><use href="https://evil.example/s.svg#a"/></svg>"#),
        ("unknown attribute", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="1" height="1" formaction="x"/></svg>"#),
        ("prefixed element", #"<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml" viewBox="0 0 32 32"><h:iframe/></svg>"#),
        // A review of the allowlist: text handed over in pieces, and comment markers inside strings.
        ("import split by CDATA", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style><![CDATA[@imp]]><![CDATA[ort "https://evil.example/x.css";]]></style></svg>"#),
        ("url split by a comment", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style>svg{background:ur<!---->l(https://evil.example/p.png)}</style></svg>"#),
        ("url spelled with a character reference", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style>svg{background:u&#114;l(https://evil.example/p.png)}</style></svg>"#),
        ("url between quoted comment markers", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" style='fill:red;--a:"/*";cursor:url(https://evil.example/c.png),auto;--b:"*/"'/></svg>"#),
        ("import between quoted comment markers", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style>a{--a:"/*"}@import "https://evil.example/x.css";b{--b:"*/"}</style></svg>"#),
        ("fill url elsewhere", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect fill="url(https://evil.example/p)"/></svg>"#),
    ]

    /// Everything an icon draws with stays allowed: gradients, clipping, masks, filters, text, local references.
    @Test func richDrawingIsAccepted() throws {
        let svg = #"""
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 64 64" width="64" height="64">
              <title>Docs Sync</title><desc>An icon</desc>
              <style>.a { fill: url(#g); stroke: #123456 } /* local only */</style>
              <defs>
                <linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2f6fed"/><stop offset="1" stop-color="#0b3"/></linearGradient>
                <radialGradient id="r" cx=".5" cy=".5" r=".5"><stop offset="0" stop-opacity="1"/></radialGradient>
                <clipPath id="c"><circle cx="32" cy="32" r="30"/></clipPath>
                <mask id="m"><rect width="64" height="64" fill="white"/></mask>
                <filter id="f"><feGaussianBlur in="SourceGraphic" stdDeviation="1" result="b"/><feOffset dx="1" dy="1"/><feMerge><feMergeNode in="b"/></feMerge></filter>
                <symbol id="s" viewBox="0 0 10 10"><path d="M0 0h10v10z"/></symbol>
              </defs>
              <g clip-path="url(#c)" mask="url(#m)" filter="url(#f)" transform="rotate(5 32 32)">
                <rect class="a" width="64" height="64" rx="8"/>
                <ellipse cx="20" cy="20" rx="6" ry="4" fill="url('#r')"/><polygon points="1,1 5,1 3,4"/>
                <text x="8" y="56" font-family="sans-serif" font-size="10" text-anchor="start">Docs<tspan dx="2">!</tspan></text>
                <use xlink:href="#s" x="40" y="40" width="10" height="10"/>
              </g>
            </svg>
            """#
        #expect(try Icon.validate(Data(svg.utf8)).get().format == .svg)
    }

    @Test(arguments: svgCases)
    func unsafeOrBadSVGIsRefused(name: String, svg: String) {
        #expect(throws: IconProblem.self) { try Icon.validate(Data(svg.utf8)).get() }
    }

    @Test func wrongSizesAndFormatsAreRefused() {
        #expect(throws: IconProblem.wrongSize(width: 64, height: 64)) { try Icon.validate(TestImages.png(width: 64, height: 64)).get() }
        #expect(throws: IconProblem.wrongSize(width: 32, height: 31)) { try Icon.validate(TestImages.jpeg(width: 32, height: 31)).get() }
        #expect(throws: IconProblem.notAnImage) { try Icon.validate(TestImages.gif).get() }
        #expect(throws: IconProblem.empty) { try Icon.validate(Data()).get() }
    }

    @Test func tooLargeIsRefused() {
        var big = TestImages.png(width: 32, height: 32)
        big.append(Data(count: 257 * 1024 - big.count))
        #expect(throws: IconProblem.tooLarge) { try Icon.validate(big).get() }
    }

    @Test func theBytesDecideAndAContradictingNameIsRefused() {
        let png = TestImages.png(width: 32, height: 32)
        #expect(throws: IconProblem.mismatch(declared: .svg, actual: .png)) { try Icon.validate(png, declaredType: "icon.svg").get() }
        #expect(throws: IconProblem.mismatch(declared: .jpeg, actual: .png)) {
            try Icon.fromDataURI(TestImages.dataURI(png, type: "image/jpeg")).get()
        }
        #expect(throws: Never.self) { try Icon.validate(png, declaredType: "application/octet-stream").get() }
    }

    @Test func dataURIsMustBeBase64() throws {
        let png = TestImages.png(width: 32, height: 32)
        #expect(try Icon.fromDataURI(TestImages.dataURI(png)).get().bytes == png)
        #expect(throws: IconProblem.notBase64) { try Icon.fromDataURI("data:image/svg+xml,<svg/>").get() }
        #expect(throws: IconProblem.notBase64) { try Icon.fromDataURI("data:image/png;base64,@@@@").get() }
        #expect(throws: IconProblem.notADataURI) { try Icon.fromDataURI("https://example.com/icon.png").get() }
    }
}

/// What the fuzzers found in the icon reader (issue 18, Fuzz/icon): raster files accepted from their
/// first bytes though pngcheck or djpeg cannot read them, and an SVG processing instruction without
/// data, on which FoundationXML crashed the process.
@Suite struct IconFuzzFindingTests {
    /// The test PNG with IHDR's data changed by `change` and its CRC made right again.
    static func png(header change: (inout [UInt8]) -> Void) -> Data {
        var bytes = [UInt8](TestImages.png(width: 32, height: 32))
        var header = Array(bytes[16..<29])
        change(&header)
        bytes.replaceSubrange(16..<29, with: header)
        let crc = TestImages.crc32(Array(bytes[12..<29]))
        bytes.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        return Data(bytes)
    }

    /// The test JPEG with a change made at its first DHT marker's offset.
    static func jpeg(_ change: (inout [UInt8], Int) -> Void) -> Data {
        var bytes = [UInt8](TestImages.jpeg(width: 32, height: 32))
        let table = (0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC4 }!
        change(&bytes, table)
        return Data(bytes)
    }

    @Test func wellFormedRasterIconsAreAccepted() throws {
        #expect(try Icon.validate(TestImages.png(width: 32, height: 32)).get().format == .png)
        #expect(try Icon.validate(TestImages.jpeg(width: 32, height: 32)).get().format == .jpeg)
        #expect(try Icon.validate(Self.png { $0[12] = 1 }).get().format == .png)  // Adam7 interlacing is a known method
        // Bytes after EOI are ignored by libjpeg (cameras append data), so here too.
        #expect(try Icon.validate(TestImages.jpeg(width: 32, height: 32) + Data("trailer".utf8)).get().format == .jpeg)
    }

    @Test(arguments: [
        ("a PNG cut before IEND", Data(TestImages.png(width: 32, height: 32).dropLast(12))),
        ("a PNG whose IEND CRC is wrong", Data(TestImages.png(width: 32, height: 32).dropLast(1) + [0x00])),
        ("a PNG with bytes after IEND", TestImages.png(width: 32, height: 32) + Data([0])),
        ("a PNG with interlace method 24", png { $0[12] = 24 }),
        ("a PNG with filter method 252", png { $0[11] = 252 }),
        ("a PNG with bit depth 3", png { $0[8] = 3 }),
        ("a JPEG of headers only (no tables, no scan)", Data([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x20, 0x00, 0x20, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9])),
        ("a JPEG cut before EOI", Data(TestImages.jpeg(width: 32, height: 32).dropLast(2))),
        // cjpeg's DC table 0 has codes of lengths 2, 3, 3, 3, 3, 3 (counts 0, 1, 5, …); the changes keep the total.
        ("a JPEG with a Huffman table of three 1-bit codes", jpeg { $0[$1 + 5] = 3; $0[$1 + 6] = 0; $0[$1 + 7] = 3 }),
        // libjpeg keeps the all-ones code free: four 3-bit and eight 4-bit codes fill the whole code space
        // (Kraft sum 1), which a check of "fits" alone let through (found by the review of the harnesses).
        ("a JPEG with a Huffman table that uses every code", jpeg { bytes, table in
            bytes.replaceSubrange((table + 5)..<(table + 21), with: [0, 0, 4, 8] + [UInt8](repeating: 0, count: 12))
        }),
        ("a baseline JPEG with its scan twice", {
            let bytes = [UInt8](TestImages.jpeg(width: 32, height: 32))
            let scan = (0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA }!
            return Data(bytes[..<(bytes.count - 2)] + bytes[scan..<(bytes.count - 2)] + [0xFF, 0xD9])
        }()),
        ("a JPEG whose DC table holds a value above 15", jpeg { bytes, table in
            // The first DHT is cjpeg's DC table 0; its first value follows the 16 counts.
            bytes[table + 5 + 16] = 16
        }),
        // libjpeg supplies the standard Huffman tables to sequential frames only (the differential's).
        ("a progressive JPEG whose DC scan names a table never defined", Data([
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x04, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0xFF, 0xDB, 0x00, 0x43,
            0x00, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02, 0x03, 0x03, 0x03, 0x03, 0x04, 0x03, 0x03, 0x04, 0x05, 0x08, 0x05, 0x05, 0x04, 0x04, 0x05, 0x0A, 0x07,
            0x07, 0x06, 0x08, 0xB5, 0x0A, 0x0C, 0x0C, 0x0B, 0x0A, 0x0B, 0x0B, 0x0D, 0x0E, 0x12, 0x10, 0x0D, 0x0E, 0x11, 0x0E, 0x0B, 0x0B, 0x10, 0x16, 0x10,
            0x11, 0x13, 0x14, 0x15, 0x15, 0x6F, 0x6E, 0x0F, 0x17, 0x09, 0x2A, 0x2F, 0x18, 0x12, 0x14, 0x15, 0x14, 0xFF, 0xDB, 0x00, 0x43, 0x01, 0x03, 0x04,
            0x04, 0x05, 0x04, 0x05, 0x09, 0x05, 0x05, 0x09, 0x14, 0x0D, 0x0B, 0x0D, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14,
            0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14,
            0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0xFF, 0xC2, 0x00, 0x11, 0x08, 0x00, 0x20, 0x00, 0x20, 0x03,
            0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0xBF, 0x31, 0x3F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xD9,
        ])),
    ] as [(String, Data)])
    func rasterFilesOtherReadersRefuseAreRefused(_ name: String, _ bytes: Data) {
        #expect(throws: IconProblem.unreadable, "\(name)") { try Icon.validate(bytes).get() }
    }

    @Test func processingInstructionsAreRefusedWithoutCrashing() {
        let instruction = Data(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><?ion?></svg>"#.utf8)
        #expect(throws: IconProblem.svgUnsafe("a processing instruction")) { try Icon.validate(instruction).get() }
        let stylesheet = Data(#"<?xml version="1.0"?><?xml-stylesheet href="https://evil.example/a.css"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"/>"#.utf8)
        #expect(throws: IconProblem.svgUnsafe("a processing instruction")) { try Icon.validate(stylesheet).get() }
        let declared = Data(#"<?xml version="1.0" encoding="UTF-8"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"/>"#.utf8)
        #expect(throws: Never.self) { try Icon.validate(declared).get() }
    }

    /// Documents that are not well-formed XML (a browser shows an error instead). libxml2 recovers from
    /// each; FoundationXML's `parse()` returned true for the first five (the first is the fuzzer's) and
    /// false for the last three, which are here so that the whole rule stays pinned.
    static let recoveredSVGs: [(String, String)] = [
        ("the fuzzer's input", ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><defs><linearGradient id="g"><stop offset=wBox="02   3303"><rect style="fill:u\   3303"><rect style="fill:u\73l(https://evil.exlm/ppe)a"/></svgd"/></linw offset="0" stop-color="red"/></linearGr`dient></defs><rect width="3============s=&"url(""""""""""""""""""""""""""#t""ample/p)"/></svgd"/></linp offset="0" 32">&x;sdient></=&http://wdefww.w3s>.or"##),
        ("unquoted attribute value", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width=32 height="32"/></svg>"#),
        ("less-than in a value", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect id="a<b"/></svg>"#),
        ("undeclared prefix", ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><use xlink:href="#a"/></svg>"##),
        ("content after the root", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"></svg><rect/>"#),
        ("stray ampersand", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><text>a & b</text></svg>"#),
        ("attribute given twice", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect fill="red" fill="blue"/></svg>"#),
        ("end tag of another name", #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><g></gg></svg>"#),
    ]

    @Test(arguments: recoveredSVGs)
    func svgThatIsNotWellFormedIsRefused(_ name: String, _ svg: String) {
        #expect(throws: IconProblem.svgMalformed, "\(name)") { try Icon.validate(Data(svg.utf8)).get() }
    }

    /// Zero bytes make libxml2 read UTF-16 or UCS-4, another text than the checks saw (a review of the
    /// fuzzing): a processing instruction without data in UTF-16 whose comment's bytes spell `<svg`
    /// passed every check and crashed the process in FoundationXML; the fuzzer's `\0\0\0<svg` made
    /// libxml2 read freed input once the parse was stopped from its error handler. No NUL is an XML
    /// character (XML 1.0 §2.2): refused before any parse.
    @Test func zeroBytesAreRefusedBeforeAnyParse() {
        #expect(throws: IconProblem.svgMalformed) { try Icon.validate(Data([0, 0, 0] + Array("<svg \ntt=".utf8))).get() }
        let wide = Data([0, 0, 0] + Array(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"/>"#.utf8))
        #expect(throws: IconProblem.svgMalformed) { try Icon.validate(wide).get() }
        func utf16LE(_ text: String) -> Data { Data(text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }) }
        // U+733C U+6776 are the bytes 3C 73 76 67: "<svg" to a reader of UTF-8.
        let instruction = utf16LE("<?x?><!--\u{733C}\u{6776}--><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"/>")
        #expect(throws: IconProblem.svgMalformed) { try Icon.validate(instruction).get() }
        let doctype = utf16LE("<!DOCTYPE svg [<!ENTITY x \"y\">]><!--\u{733C}\u{6776}--><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">&x;</svg>")
        #expect(throws: IconProblem.svgMalformed) { try Icon.validate(doctype).get() }
    }

    /// A combining character right after markup fuses with it into one grapheme cluster, which
    /// `String.contains` compares: `<?` U+200C was no `<?` to it, while libxml2 read a processing
    /// instruction without data and FoundationXML crashed the process; `<!DOCTYPE` U+200C let DOCTYPEs
    /// through (two of them crashed the process too). Found by an attack review; markup is now looked
    /// for in bytes.
    @Test(arguments: [
        ("a processing instruction behind U+200C", "<?\u{200C}?>", IconProblem.svgUnsafe("a processing instruction")),
        ("a processing instruction behind U+1DC0", "<?\u{1DC0}?>", IconProblem.svgUnsafe("a processing instruction")),
        ("an ATTLIST behind U+200C", "", IconProblem.svgUnsafe("a DOCTYPE or entity declaration")),
    ])
    func markupBehindACombiningCharacterIsRefused(_ name: String, _ inside: String, _ problem: IconProblem) {
        let svg = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">"# + inside + "</svg>"
        let document = name.hasPrefix("an ATTLIST") ? "<!DOCTYPE\u{200C}svg [<!ATTLIST svg a CDATA #IMPLIED>]>" + svg : svg
        #expect(throws: problem, "\(name)") { try Icon.validate(Data(document.utf8)).get() }
    }

    @Test func doctypesBehindACombiningCharacterAreRefused() {
        let svg = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"/>"#
        for subset in ["<!NOTATION n SYSTEM \"x\">", "<!ELEMENT svg ANY>"] {
            let document = Data(("<!DOCTYPE\u{200C}svg [" + subset + "]>" + svg).utf8)
            #expect(throws: IconProblem.svgUnsafe("a DOCTYPE or entity declaration"), "\(subset)") { try Icon.validate(document).get() }
        }
    }

    /// A declared encoding other than UTF-8 would make libxml2 read another text too: UTF-7 spells a
    /// processing instruction `+ADw-?x?+AD4-`. UTF-8 may be declared, in either spelling and case.
    @Test func onlyUTF8MayBeDeclared() {
        let svg = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">+ADw-?x?+AD4-</svg>"#
        for encoding in ["UTF-7", "utf-16", "ISO-8859-1", "EBCDIC-US"] {
            let declared = Data((#"<?xml version="1.0" encoding="\#(encoding)"?>"# + svg).utf8)
            #expect(throws: IconProblem.svgUnsafe("an encoding other than UTF-8"), "\(encoding)") { try Icon.validate(declared).get() }
        }
        let twice = Data((#"<?xml version="1.0" encoding="utf-8" encoding="utf-7"?>"# + svg).utf8)
        #expect(throws: IconProblem.svgUnsafe("an encoding other than UTF-8")) { try Icon.validate(twice).get() }
        for encoding in ["UTF-8", "utf-8", "utf8"] {
            let declared = Data((#"<?xml version="1.0" encoding = '\#(encoding)' ?>"# + svg).utf8)
            #expect(throws: Never.self, "\(encoding)") { try Icon.validate(declared).get() }
        }
    }

    /// libxml2's warnings about values in a well-formed document are no errors: browsers render these.
    @Test func warningsAboutValuesAreNoErrors() {
        let svg = #"<?xml version="1.1"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" xml:space="Preserve" xml:lang="en_US"><text>a</text></svg>"#
        #expect(throws: Never.self) { try Icon.validate(Data(svg.utf8)).get() }
        // But each is leaked by FoundationXML, so a few are a drawing's and many are refused.
        let many = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">" + String(repeating: #"<g xml:space="x"/>"#, count: 9) + "</svg>"
        #expect(throws: IconProblem.svgMalformed) { try Icon.validate(Data(many.utf8)).get() }
        let few = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">" + String(repeating: #"<g xml:space="x"/>"#, count: 8) + "</svg>"
        #expect(throws: Never.self) { try Icon.validate(Data(few.utf8)).get() }
    }

    /// What the fuzzer's own SVG oracle once took for an outside reference (4e91fec, fcadc3b) or a
    /// script: a quote inside an at-keyword ends it (`@impo` is an unknown at-rule, then a string),
    /// strings inside `url(` give it no value, and `<script>` in a CDATA section is text. All harmless,
    /// and accepted.
    @Test func whatTheOracleMistookIsAccepted() {
        let text = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style><![CDATA[/* <script>alert(1)</script> */]]></style></svg>"#
        #expect(throws: Never.self) { try Icon.validate(Data(text.utf8)).get() }
        let keyword = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><style>a{--a:"/*"}@impo"rt https://evil.example/x.css";b{--b:"*/"}</style></svg>"#
        #expect(throws: Never.self) { try Icon.validate(Data(keyword.utf8)).get() }
        let strings = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" fill="url(&quot;&quot;&quot;#t&quot;)"/></svg>"##
        #expect(throws: Never.self) { try Icon.validate(Data(strings.utf8)).get() }
    }
}
