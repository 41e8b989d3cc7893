import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import OAuthCore

/// The icon reader (PNG, JPEG) and SVG checker. Promises, checked here by a reader of the harness's own:
/// an accepted SVG is well-formed XML whose every element and attribute is on the allowlist, with no
/// DOCTYPE, no script or event handler, every href pointing inside the icon and every CSS url(…) too
/// (escapes decoded); an accepted PNG or JPEG starts with its signature and is 32 × 32. With
/// GATEHOUSE_FUZZ_VERDICT set, each input's verdict is printed for Fuzz/icon/differential.py, which
/// compares accepted PNGs and JPEGs with pngcheck and djpeg, and holds accepted SVGs to expat.
private let printsVerdicts = ProcessInfo.processInfo.environment["GATEHOUSE_FUZZ_VERDICT"] != nil

func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(UnsafeBufferPointer(start: start, count: count))
    let result = Icon.validate(data)
    if printsVerdicts {
        // On standard error, unbuffered, so that it follows libFuzzer's "Running: <file>" line.
        let verdict = switch result {
        case .success(let icon): "verdict: accepted \(icon.format.rawValue)\n"
        case .failure(let problem): "verdict: refused \(problem)\n"
        }
        FileHandle.standardError.write(Data(verdict.utf8))
    }
    guard case .success(let icon) = result else { return 0 }
    switch icon.format {
    case .png:
        // The size, read here from IHDR; the rest of the structure is pngcheck's to judge (differential.py).
        let bytes = [UInt8](data)
        guard bytes.count > 24, bytes[12...15].elementsEqual("IHDR".utf8),
              bytes[16...19].elementsEqual([0, 0, 0, 32]), bytes[20...23].elementsEqual([0, 0, 0, 32])
        else { fatalError("promise broken: an accepted PNG is not 32 × 32") }
    case .jpeg:
        // The size, read here from the first start-of-frame a plain marker walk finds.
        guard jpegSize([UInt8](data)) == [32, 32] else { fatalError("promise broken: an accepted JPEG is not 32 × 32") }
    case .svg:
        let oracle = SVGOracle()
        let parser = XMLParser(data: data)
        parser.delegate = oracle
        parser.shouldResolveExternalEntities = false
        // parse() alone is not enough: FoundationXML's libxml2 recovers from errors and still returns true.
        guard parser.parse(), oracle.errors.isEmpty else {
            fatalError("promise broken: an accepted SVG is not well-formed XML (libxml2 codes \(oracle.errors))")
        }
        if let problem = oracle.problem { fatalError("promise broken: accepted SVG has \(problem)") }
        // The raw text is what libxml2 read only if it read UTF-8: no NUL (UTF-16 or UCS-4 detected) and
        // no other encoding declared.
        if data.contains(0) { fatalError("promise broken: an accepted SVG has a NUL byte") }
        let lower = String(decoding: data, as: UTF8.self).lowercased()
        if lower.hasPrefix("<?xml") || lower.hasPrefix("\u{FEFF}<?xml"), let close = lower.range(of: "?>"),
           let named = lower[..<close.lowerBound].range(of: "encoding") {
            let value = lower[named.upperBound..<close.lowerBound].drop(while: { " \t\r\n=\"'".contains($0) })
                .prefix(while: { !"\"' \t\r\n".contains($0) })
            if value != "utf-8" && value != "utf8" { fatalError("promise broken: an accepted SVG declares the encoding \(value)") }
        }
        // Script elements are the allowlist's (above); "<script" in text or CDATA is only text.
        // In bytes: String.contains compares grapheme clusters, and `<!DOCTYPE` U+200C is none to it.
        let folded = Data(data.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 })
        if folded.range(of: Data("<!doctype".utf8)) != nil || folded.range(of: Data("<!entity".utf8)) != nil {
            fatalError("promise broken: DOCTYPE or entity")
        }
    }
    return 0
}

/// Checks every element and attribute against the allowlist and every reference against the icon itself.
private final class SVGOracle: NSObject, XMLParserDelegate {
    var problem: String?
    /// libxml2's codes for what it reported, but for its warnings about values (libxml/xmlerror.h:
    /// XML_WAR_UNKNOWN_VERSION 97, XML_WAR_LANG_VALUE 98, XML_WAR_SPACE_VALUE 102), which browsers render.
    var errors: [Int] = []

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        let code = (parseError as NSError).code
        if ![97, 98, 102].contains(code) { errors.append(code) }
    }

    /// The XML declaration is no processing instruction to the parser; any other is one an icon must not hold.
    func parser(_ parser: XMLParser, foundProcessingInstructionWithTarget target: String, data: String?) {
        problem = problem ?? "processing instruction <?\(target)"
    }
    /// Per open element, its own text (a browser joins a style element's text nodes, across children,
    /// comments and CDATA sections), so each is checked whole when it ends.
    private var texts: [String] = []

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let name = elementName.lowercased()
        if !Icon.allowedSVGElements.contains(name) { problem = problem ?? "element <\(name)>" }
        texts.append("")
        for (attribute, value) in attributes {
            let key = attribute.lowercased()
            if !Icon.allowedSVGAttributes.contains(key) { problem = problem ?? "attribute \(key)" }
            if key == "href" || key == "xlink:href" {
                if !value.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("#") { problem = problem ?? "href \(value)" }
            }
            if let reference = outsideReference(value) { problem = problem ?? "\(key)=\(reference)" }
            let namespaces = ["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"]
            if key.hasPrefix("xmlns"), !namespaces.contains(where: { Array($0.utf8) == Array(value.utf8) }) {
                problem = problem ?? "namespace \(value)"
            }
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if let text = texts.popLast(), let reference = outsideReference(text) { problem = problem ?? "text \(reference)" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if texts.isEmpty { texts.append("") }
        texts[texts.count - 1] += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        self.parser(parser, foundCharacters: String(decoding: CDATABlock, as: UTF8.self))
    }

    /// A CSS reference that leaves the icon: `url(` not followed by `#`, `@import`, `image-set(`,
    /// `javascript:` — after CSS escapes (backslash and hex digits, or backslash and a character) are
    /// decoded, comments dropped and white space removed.
    private func outsideReference(_ text: String) -> String? {
        var decoded = ""
        var scalars = Array(text.unicodeScalars)[...]
        while let first = scalars.first {
            scalars = scalars.dropFirst()
            guard first == "\\" else { decoded.unicodeScalars.append(first); continue }
            var hex = ""
            while hex.count < 6, let next = scalars.first, next.properties.isASCIIHexDigit { hex.unicodeScalars.append(next); scalars = scalars.dropFirst() }
            if !hex.isEmpty {
                if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) { decoded.unicodeScalars.append(scalar) }
                if let space = scalars.first, space == " " || space == "\t" || space == "\n" { scalars = scalars.dropFirst() }
            } else if let next = scalars.first {
                decoded.unicodeScalars.append(next)
                scalars = scalars.dropFirst()
            }
        }
        // Checked with comments dropped and kept: "/*" inside a quoted string is no comment to a browser.
        var uncommented = decoded.lowercased()
        while let open = uncommented.range(of: "/*") {
            let close = uncommented.range(of: "*/", range: open.upperBound..<uncommented.endIndex)?.upperBound ?? uncommented.endIndex
            uncommented.removeSubrange(open.lowerBound..<close)
        }
        for candidate in [uncommented, decoded.lowercased()] {
            // White space dropped, quotes kept: a quote ends an identifier (`@impo"rt …"` is no @import).
            let plain = String(candidate.unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init))
            let fetching = ["@import", "image-set(", "image(", "cross-fade(", "element(", "paint(", "src(", "expression(", "javascript:"]
            if fetching.contains(where: plain.contains) { return plain }
            var rest = plain[...]
            while let found = rest.range(of: "url(") {
                rest = rest[found.upperBound...]
                // Quotes open strings: url("") is this document, and url("" "…") is no value at all.
                let target = rest.drop { $0 == "\"" || $0 == "'" }
                if !target.hasPrefix("#"), !target.hasPrefix(")") { return plain }
            }
        }
        return nil
    }
}

/// Width and height from the first SOFn segment, walking the marker segments from SOI.
private func jpegSize(_ bytes: [UInt8]) -> [Int]? {
    var at = 2
    while at + 9 < bytes.count {
        guard bytes[at] == 0xFF else { return nil }
        let marker = bytes[at + 1]
        if marker == 0xFF { at += 1; continue }
        let length = Int(bytes[at + 2]) * 256 + Int(bytes[at + 3])
        if [0xC0, 0xC1, 0xC2].contains(marker) { return [Int(bytes[at + 7]) * 256 + Int(bytes[at + 8]), Int(bytes[at + 5]) * 256 + Int(bytes[at + 6])] }
        at += 2 + length
    }
    return nil
}
