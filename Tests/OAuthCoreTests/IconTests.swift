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
    ]

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
