// swift-tools-version:6.2
// The fuzz targets (issue 18): one per parser of what strangers send, built with libFuzzer and
// AddressSanitizer by `Fuzz/run`. A package of its own, so that the main build never sees them (built
// without the sanitizer they could not link: their main hands over to libFuzzer's driver).
import PackageDescription

let fuzzed: [(name: String, folder: String, products: [String])] = [
    ("fuzz-icon", "icon", ["OAuthCore"]),
    ("fuzz-jws", "jws", ["OAuthCore"]),
    ("fuzz-form", "form", ["OAuthCore"]),
    ("fuzz-multipart", "multipart", ["HTTPParsing"]),
    ("fuzz-authorization-header", "authorization-header", ["HTTPParsing"]),
    ("fuzz-client-metadata", "client-metadata", ["OAuthCore"]),
]

let package = Package(
    name: "GatehouseFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Gatehouse", path: "..")],
    targets: [
        // libFuzzer's LLVMFuzzerRunDriver, which each target's main.swift calls.
        .target(name: "CLibFuzzer", path: "support/CLibFuzzer"),
    ] + fuzzed.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["CLibFuzzer"] + target.products.map { .product(name: $0, package: "Gatehouse") },
            path: target.folder,
            exclude: ["corpus", "dictionary"] + (target.folder == "icon" ? ["differential.py", "leaks.supp"] : []),
            // gold fails on these objects (an internal error in its DWARF reader); LLVM's lld links them.
            linkerSettings: [.unsafeFlags(["-use-ld=lld"])]
        )
    }
)
