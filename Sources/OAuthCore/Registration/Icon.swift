import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An app icon that passed every check: its format comes from its bytes, never from a file name
/// or a declared media type.
public struct Icon: Sendable, Equatable {
    /// The formats an icon may have.
    public enum Format: String, Sendable {
        case png, jpeg, svg

        /// The media type it is served with.
        public var contentType: String {
            switch self {
            case .png: "image/png"
            case .jpeg: "image/jpeg"
            case .svg: "image/svg+xml"
            }
        }
    }

    /// Largest icon accepted: 256 KB.
    public static let maximumSize = 256 * 1024
    /// Raster icons must be exactly this many pixels wide and high.
    public static let rasterSide = 32

    /// The format read from the bytes.
    public let format: Format
    /// The bytes, as given.
    public let bytes: Data

    /// Checks `bytes`; `declaredType` (a media type or a file name) is only compared with what the
    /// bytes turn out to be, so that a PNG calling itself SVG is refused rather than trusted.
    public static func validate(_ bytes: Data, declaredType: String? = nil) -> Result<Icon, IconProblem> {
        guard !bytes.isEmpty else { return .failure(.empty) }
        guard bytes.count <= maximumSize else { return .failure(.tooLarge) }
        let format: Format
        if let size = PNGHeader.size(of: bytes) {
            guard size == (rasterSide, rasterSide) else { return .failure(.wrongSize(width: size.0, height: size.1)) }
            // The whole file, as an independent decoder would read it (fuzzed against pngcheck).
            guard PNGStructure.isWellFormed([UInt8](bytes)) else { return .failure(.unreadable) }
            format = .png
        } else if JPEGHeader.isJPEG(bytes) {
            guard let size = JPEGHeader.size(of: bytes) else { return .failure(.unreadable) }
            guard size == (rasterSide, rasterSide) else { return .failure(.wrongSize(width: size.0, height: size.1)) }
            // The whole file, as libjpeg would read it (fuzzed against djpeg).
            guard JPEGStructure.isWellFormed([UInt8](bytes)) else { return .failure(.unreadable) }
            format = .jpeg
        } else if let problem = SVGSafety.problem(in: bytes) {
            return .failure(problem)
        } else {
            format = .svg
        }
        if let declaredType, let declared = declaredFormat(declaredType), declared != format {
            return .failure(.mismatch(declared: declared, actual: format))
        }
        return .success(Icon(trusted: bytes, format: format))
    }

    /// The format a media type or file name claims, when it claims one of ours.
    static func declaredFormat(_ text: String) -> Format? {
        let lower = text.lowercased()
        if lower.hasPrefix("image/png") || lower.hasSuffix(".png") { return .png }
        if lower.hasPrefix("image/jpeg") || lower.hasPrefix("image/jpg") || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") {
            return .jpeg
        }
        if lower.hasPrefix("image/svg+xml") || lower.hasSuffix(".svg") { return .svg }
        return nil
    }

    /// An icon read back from storage, where it was validated when it was stored.
    public init(trusted bytes: Data, format: Format) {
        self.bytes = bytes
        self.format = format
    }

    /// An icon from a `data:` URI of JSON (`data:image/png;base64,…`); only base64 is accepted.
    public static func fromDataURI(_ uri: String) -> Result<Icon, IconProblem> {
        guard uri.count <= maximumSize * 4 / 3 + 200 else { return .failure(.tooLarge) }
        guard uri.hasPrefix("data:"), let comma = uri.firstIndex(of: ",") else { return .failure(.notADataURI) }
        let header = uri[uri.index(uri.startIndex, offsetBy: 5)..<comma]
        let parameters = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard parameters.last == "base64" else { return .failure(.notBase64) }
        let payload = uri[uri.index(after: comma)...].filter { !$0.isWhitespace }
        guard let bytes = Data(base64Encoded: String(payload)) else { return .failure(.notBase64) }
        let mediaType = parameters.count > 1 ? parameters[0] : nil
        return validate(bytes, declaredType: mediaType)
    }

    /// The icon as a `data:` URI.
    public var dataURI: String { "data:\(format.contentType);base64,\(bytes.base64EncodedString())" }
}

/// Why an icon was refused.
public enum IconProblem: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooLarge
    case wrongSize(width: Int, height: Int)
    case unreadable
    case notAnImage
    case notADataURI
    case notBase64
    case mismatch(declared: Icon.Format, actual: Icon.Format)
    case svgNotSquare
    case svgUnsafe(String)
    case svgMalformed

    /// A sentence for the form.
    public var description: String {
        switch self {
        case .empty: "The icon is empty."
        case .tooLarge: "The icon must be at most 256 KB."
        case .wrongSize(let width, let height): "The icon must be 32×32 pixels; this one is \(width)×\(height)."
        case .unreadable: "The image could not be read."
        case .notAnImage: "The icon must be a PNG, JPEG or SVG image."
        case .notADataURI: "The icon must be a data URI such as data:image/png;base64,…"
        case .notBase64: "The icon's data URI must be base64-encoded."
        case .mismatch(let declared, let actual):
            "The file says it is \(declared.rawValue.uppercased()) but its content is \(actual.rawValue.uppercased())."
        case .svgNotSquare: "An SVG icon must be square (equal viewBox or width and height)."
        case .svgUnsafe(let what): "The SVG icon contains \(what), which is not allowed."
        case .svgMalformed: "The SVG icon is not well-formed XML."
        }
    }
}

/// PNG (RFC 2083 §3.1, §4.1.1): the 8-byte signature, then IHDR with width and height.
enum PNGHeader {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func size(of data: Data) -> (Int, Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            return nil
        }
        return (bigEndian(bytes[16..<20]), bigEndian(bytes[20..<24]))
    }

    static func bigEndian(_ slice: ArraySlice<UInt8>) -> Int { slice.reduce(0) { $0 << 8 | Int($1) } }
}

/// JPEG (ITU T.81 Annex B): walk the marker segments to the first start-of-frame.
enum JPEGHeader {
    static func isJPEG(_ data: Data) -> Bool { data.count > 3 && data.prefix(3).elementsEqual([0xFF, 0xD8, 0xFF]) }

    static func size(of data: Data) -> (Int, Int)? {
        let bytes = [UInt8](data)
        var index = 2
        while index + 4 <= bytes.count {
            guard bytes[index] == 0xFF else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xFF { index += 1; continue }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { index += 2; continue }
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard length >= 2 else { return nil }
            // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard index + 9 <= bytes.count else { return nil }
                let height = Int(bytes[index + 5]) << 8 | Int(bytes[index + 6])
                let width = Int(bytes[index + 7]) << 8 | Int(bytes[index + 8])
                return (width, height)
            }
            index += 2 + length
        }
        return nil
    }
}

/// The safety rules for SVG icons. An SVG is a document that can run script and fetch from anywhere,
/// so an icon may hold only plain drawing: an allowlist of elements and attributes (after DOMPurify's
/// SVG profile, without animation, links, images and foreign content), references only inside the
/// icon, CSS without `url(…)` to elsewhere, `@import` or `image-set(…)` once its escapes are decoded
/// (CSS Syntax §4.3.7), and no DOCTYPE or entities (billion laughs, XXE).
enum SVGSafety {
    static func problem(in data: Data) -> IconProblem? {
        guard String(data: data, encoding: .utf8) != nil else { return .notAnImage }
        // Markup is looked for in the bytes, ASCII letters folded, never with String.contains: that compares
        // grapheme clusters, and a combining character after `?` (`<?` U+200C) or in `<!DOCTYPE` U+200C hid
        // from it what libxml2 reads as markup — and FoundationXML crashed the process on the processing
        // instruction (found by an attack review of the fuzzing).
        let folded = data.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        var rest = folded[...]
        guard Self.find("<svg", in: rest) != nil else { return .notAnImage }
        // The checks below hold only if libxml2 reads the same text: UTF-8. A NUL byte (no XML character,
        // XML 1.0 §2.2) is how it detects UTF-16 or UCS-4 without a byte order mark, and a declared
        // encoding switches it too (UTF-7 spells `<?` as `+ADw-?`), either hiding a processing instruction
        // or DOCTYPE from this text (found by a review of the fuzzing).
        if data.contains(0) { return .svgMalformed }
        if Self.find("<!doctype", in: rest) != nil || Self.find("<!entity", in: rest) != nil {
            return .svgUnsafe("a DOCTYPE or entity declaration")
        }
        // No processing instruction but the XML declaration at the very start. Beyond that no icon needs
        // one (xml-stylesheet would load a style sheet), and FoundationXML on Linux crashes the process
        // on one without data (`<?x?>`: strlen of a null pointer; found by Fuzz/icon).
        if rest.starts(with: [0xEF, 0xBB, 0xBF]) { rest = rest.dropFirst(3) }
        if rest.starts(with: Array("<?xml ".utf8)), let end = Self.find("?>", in: rest) {
            if !declaresUTF8OrNothing(rest[..<end.lowerBound]) { return .svgUnsafe("an encoding other than UTF-8") }
            rest = rest[end.upperBound...]
        }
        if Self.find("<?", in: rest) != nil { return .svgUnsafe("a processing instruction") }
        let parser = XMLParser(data: data)
        let inspector = Inspector()
        parser.delegate = inspector
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        let parsed = parser.parse()
        if let found = inspector.problem { return found }
        guard parsed, !inspector.sawError, inspector.sawRoot, inspector.balanced else { return .svgMalformed }
        return inspector.isSquare ? nil : .svgNotSquare
    }

    /// Whether an XML declaration (ASCII letters folded, without its `?>`) names no encoding or UTF-8
    /// once (XML 1.0 §4.3.3, `EncodingDecl`), compared byte for byte.
    static func declaresUTF8OrNothing(_ declaration: ArraySlice<UInt8>) -> Bool {
        let compact = declaration.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }[...]
        var named = 0
        var search = compact
        while let found = find("encoding", in: search) {
            named += 1
            search = search[found.upperBound...]
        }
        let utf8 = [#"encoding="utf-8""#, "encoding='utf-8'", #"encoding="utf8""#, "encoding='utf8'"]
        return named == 0 || (named == 1 && utf8.contains { find($0, in: compact) != nil })
    }

    /// Where `needle`'s bytes first occur in `bytes`: the first byte found by `firstIndex(of:)`, the rest
    /// compared byte for byte.
    static func find(_ needle: String, in bytes: ArraySlice<UInt8>) -> Range<Int>? {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first, bytes.count >= pattern.count else { return nil }
        let last = bytes.endIndex - pattern.count
        var start = bytes.startIndex
        while start <= last, let at = bytes[start...last].firstIndex(of: first) {
            if bytes[at..<(at + pattern.count)].elementsEqual(pattern) { return at..<(at + pattern.count) }
            start = at + 1
        }
        return nil
    }

    /// Warnings libxml2 gives about values in a well-formed document, which browsers render: an unknown
    /// XML version (XML_WAR_UNKNOWN_VERSION), an `xml:lang` that is no language tag (XML_WAR_LANG_VALUE),
    /// an `xml:space` other than `default` or `preserve` (XML_WAR_SPACE_VALUE). Every other report fails.
    static let harmlessWarnings: Set<Int> = [97, 98, 102]

    /// Elements of plain drawing: shapes, text, paint servers, clipping, masking and filter primitives.
    /// Not here, so refused: script, style sheets by link, `a`, `image`, `feImage`, `use` of other
    /// documents (checked by its `href`), `foreignObject`, `iframe`, `meta`, and every animation
    /// element (`set` and `animate` can rewrite `href` after the check).
    static let elements: Set<String> = [
        "svg", "g", "defs", "title", "desc", "symbol", "use", "style", "switch",
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textpath",
        "lineargradient", "radialgradient", "stop", "pattern", "clippath", "mask", "marker",
        "filter", "feblend", "fecolormatrix", "fecomponenttransfer", "fecomposite", "feconvolvematrix",
        "fediffuselighting", "fedisplacementmap", "fedistantlight", "fedropshadow", "feflood", "fefunca", "fefuncb",
        "fefuncg", "fefuncr", "fegaussianblur", "femerge", "femergenode", "femorphology", "feoffset", "fepointlight",
        "fespecularlighting", "fespotlight", "fetile", "feturbulence",
    ]

    /// Attributes of geometry and presentation. Event handlers (`on…`) and anything else are refused.
    static let attributes: Set<String> = [
        "id", "class", "style", "viewbox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
        "fx", "fy", "fr", "d", "points", "pathlength", "transform", "preserveaspectratio", "version", "baseprofile",
        "xmlns", "xmlns:xlink", "xml:space", "xml:lang", "lang", "href", "xlink:href", "xlink:title",
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
        "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity", "color", "display", "visibility", "overflow",
        "paint-order", "vector-effect", "shape-rendering", "text-rendering", "image-rendering", "color-interpolation",
        "color-interpolation-filters", "clip", "clip-path", "clip-rule", "clippathunits", "mask", "maskunits",
        "maskcontentunits", "mask-type", "gradientunits", "gradienttransform", "spreadmethod", "offset", "stop-color",
        "stop-opacity", "patternunits", "patterncontentunits", "patterntransform", "marker-start", "marker-mid", "marker-end",
        "markerwidth", "markerheight", "markerunits", "refx", "refy", "orient", "font-family", "font-size", "font-weight",
        "font-style", "font-variant", "font-stretch", "text-anchor", "dominant-baseline", "alignment-baseline",
        "baseline-shift", "letter-spacing", "word-spacing", "text-decoration", "writing-mode", "direction", "dx", "dy",
        "rotate", "textlength", "lengthadjust", "startoffset", "method", "spacing", "side", "filter", "filterunits",
        "primitiveunits", "in", "in2", "result", "stddeviation", "edgemode", "flood-color", "flood-opacity", "lighting-color",
        "operator", "k1", "k2", "k3", "k4", "values", "type", "mode", "tablevalues", "slope", "intercept", "amplitude",
        "exponent", "kernelmatrix", "order", "divisor", "bias", "targetx", "targety", "preservealpha", "surfacescale",
        "diffuseconstant", "specularconstant", "specularexponent", "kernelunitlength", "azimuth", "elevation", "z",
        "pointsatx", "pointsaty", "pointsatz", "limitingconeangle", "scale", "xchannelselector", "ychannelselector",
        "radius", "basefrequency", "numoctaves", "seed", "stitchtiles", "requiredfeatures", "systemlanguage",
    ]

    /// The only namespaces a declaration may name: SVG's and XLink's (another one would turn an
    /// allowed name into an XHTML element).
    static let namespaces: [String: String] = [
        "xmlns": "http://www.w3.org/2000/svg", "xmlns:xlink": "http://www.w3.org/1999/xlink",
    ]

    /// Why a piece of CSS (a `style` attribute or element, or a presentation attribute) is unsafe, after
    /// its comments are dropped and its escapes decoded; `nil` when it only refers inside the icon.
    /// Checked twice, with and without comments: `/*` inside a quoted string is no comment to a
    /// browser, so dropping comments alone could hide a `url(` between two strings, and keeping them
    /// can only add what is refused anyway.
    static func cssProblem(_ css: String) -> String? {
        cssProblem(plain: decodedCSS(css, droppingComments: true)) ?? cssProblem(plain: decodedCSS(css, droppingComments: false))
    }

    private static func cssProblem(plain decoded: String) -> String? {
        let plain = decoded.lowercased().filter { !$0.isWhitespace }
        if plain.contains("@import") { return "an @import" }
        for function in ["image-set(", "image(", "cross-fade(", "element(", "expression(", "paint("] where plain.contains(function) {
            return "a CSS \(function)…)"
        }
        if plain.contains("javascript:") { return "a javascript: link" }
        if plain.contains("url(") && !onlyLocalURLs(plain) { return "a reference to something outside the icon" }
        if plain.contains("src(") { return "a reference to something outside the icon" }
        return nil
    }

    /// CSS with `/* */` comments removed and escapes decoded (CSS Syntax §4.3.7: `\` and up to six hex
    /// digits and one white space, or `\` and any other character).
    static func decodedCSS(_ css: String, droppingComments: Bool) -> String {
        var out = String.UnicodeScalarView()
        let scalars = Array(css.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if droppingComments, scalar == "/", index + 1 < scalars.count, scalars[index + 1] == "*" {
                index += 2
                while index + 1 < scalars.count, !(scalars[index] == "*" && scalars[index + 1] == "/") { index += 1 }
                index += 2
                continue
            }
            guard scalar == "\\", index + 1 < scalars.count else {
                out.append(scalar)
                index += 1
                continue
            }
            index += 1
            var hex = ""
            while hex.count < 6, index < scalars.count, scalars[index].properties.isASCIIHexDigit {
                hex.unicodeScalars.append(scalars[index])
                index += 1
            }
            if hex.isEmpty {
                if scalars[index] != "\n" { out.append(scalars[index]) }
                index += 1
            } else {
                out.append(UInt32(hex, radix: 16).flatMap(Unicode.Scalar.init) ?? "\u{FFFD}")
                if index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
            }
        }
        return String(out)
    }

    /// `url(#id)` only.
    static func onlyLocalURLs(_ text: String) -> Bool {
        var rest = Substring(text)
        while let range = rest.range(of: "url(") {
            let after = rest[range.upperBound...].drop(while: { $0 == "'" || $0 == "\"" })
            if !after.hasPrefix("#") { return false }
            rest = after
        }
        return true
    }

    /// Collects what the parser sees; used by one parse on one thread only.
    private final class Inspector: NSObject, XMLParserDelegate {
        var problem: IconProblem?
        var sawRoot = false
        var isSquare = false
        /// Open elements; a close tag must match the last one (the parser alone is lenient here).
        private var open: [String] = []
        /// The text of each open element so far. The parser hands text over in pieces (at CDATA
        /// sections, comments and character references); a browser joins them, so the check does too.
        private var texts: [String] = []
        private var mismatched = false
        var balanced: Bool { open.isEmpty && !mismatched }
        private var depth: Int { open.count }

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            defer {
                open.append(elementName)
                texts.append("")
            }
            let local = elementName.lowercased()
            if depth == 0 {
                guard local == "svg" else { return fail(.notAnImage, parser) }
                sawRoot = true
                isSquare = Self.square(attributes)
            }
            guard SVGSafety.elements.contains(local) else { return fail(.svgUnsafe("an <\(elementName)> element"), parser) }
            for (name, value) in attributes {
                let attribute = name.lowercased()
                if attribute.hasPrefix("on") { return fail(.svgUnsafe("an event handler (\(name))"), parser) }
                guard SVGSafety.attributes.contains(attribute) else { return fail(.svgUnsafe("the attribute \(name)"), parser) }
                if let namespace = SVGSafety.namespaces[attribute], value != namespace {
                    return fail(.svgUnsafe("a namespace other than SVG's (\(name))"), parser)
                }
                let plain = value.lowercased().filter { !$0.isWhitespace && !$0.isNewline }
                if attribute == "href" || attribute == "xlink:href" {
                    if !plain.hasPrefix("#") { return fail(.svgUnsafe("a link that is not inside the icon (\(name))"), parser) }
                }
                if let why = SVGSafety.cssProblem(value) { return fail(.svgUnsafe(why), parser) }
            }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            if open.last == elementName { open.removeLast() } else { mismatched = true }
            if let text = texts.popLast(), let why = SVGSafety.cssProblem(text) { fail(.svgUnsafe(why), parser) }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if texts.isEmpty {
                if let why = SVGSafety.cssProblem(string) { fail(.svgUnsafe(why), parser) }
            } else {
                texts[texts.count - 1] += string
            }
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            self.parser(parser, foundCharacters: String(decoding: CDATABlock, as: UTF8.self))
        }

        func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
            fail(.svgUnsafe("a DOCTYPE or entity declaration"), parser)
        }

        func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) {
            fail(.svgUnsafe("a DOCTYPE or entity declaration"), parser)
        }

        func parser(_ parser: XMLParser, foundProcessingInstructionWithTarget target: String, data: String?) {
            if target.lowercased() == "xml-stylesheet" { fail(.svgUnsafe("an external stylesheet"), parser) }
        }

        /// FoundationXML runs libxml2 in recovery mode (`XML_PARSE_RECOVER`), so `parse()` returns true for
        /// much that is not well-formed XML (an unquoted attribute value, an undeclared prefix, content
        /// after the root): only this callback tells, and it hears warnings too (`harmlessWarnings`). A
        /// browser refuses such a document (XML 1.0 §1.2: a fatal error ends normal processing), so an icon
        /// with any error is malformed, and nothing the recovering parser guessed is checked further
        /// (found by Fuzz/icon). The parse stops at the first error: FoundationXML leaks each
        /// report (a `CFError` of 72 bytes), and recovering libxml2 reports every error there is — 250 KB
        /// of `&` leaked 18 MB a check. Stopping from here is safe only because the input is UTF-8 by then
        /// (no NUL, no other encoding): libxml2 2.9 read the input it had just freed when stopped during
        /// an encoding conversion (Fuzz/icon, on `\0\0\0<svg`).
        private(set) var sawError = false

        private var warnings = 0

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            // Each warning leaks too: a few are a drawing's, thousands an attack.
            if SVGSafety.harmlessWarnings.contains((parseError as NSError).code) {
                warnings += 1
                if warnings <= 8 { return }
            }
            guard !sawError else { return }
            sawError = true
            parser.abortParsing()
        }

        private func fail(_ found: IconProblem, _ parser: XMLParser) {
            // After an error, what the parser reports is its guess: the icon is malformed, nothing else.
            guard !sawError else { return }
            if problem == nil { problem = found }
            parser.abortParsing()
        }

        /// A square `viewBox`, or equal `width` and `height`.
        static func square(_ attributes: [String: String]) -> Bool {
            let lowered = Dictionary(attributes.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
            if let viewBox = lowered["viewbox"] {
                let numbers = viewBox.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Double($0) }
                if numbers.count == 4 { return numbers[2] > 0 && numbers[2] == numbers[3] }
                return false
            }
            func length(_ value: String?) -> Double? {
                guard var value = value?.trimmingCharacters(in: .whitespaces) else { return nil }
                if value.hasSuffix("px") { value.removeLast(2) }
                return Double(value)
            }
            guard let width = length(lowered["width"]), let height = length(lowered["height"]) else { return false }
            return width > 0 && width == height
        }
    }
}

extension Icon {
    /// The SVG elements an icon may hold, lowercased (the fuzz harness checks accepted icons against it).
    public static var allowedSVGElements: Set<String> { SVGSafety.elements }
    /// The SVG attributes an icon may carry, lowercased.
    public static var allowedSVGAttributes: Set<String> { SVGSafety.attributes }
}
