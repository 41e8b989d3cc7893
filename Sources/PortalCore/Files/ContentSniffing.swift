/// The media type of uploaded bytes, decided by the bytes (WHATWG MIME Sniffing §7, for the
/// signatures a document portal meets), never by what the client declared. Office documents are
/// ZIP files; for those, and for text, the file name's extension picks the exact type.
public enum ContentSniffing {
    static let byExtension: [String: String] = [
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text",
        "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "odp": "application/vnd.oasis.opendocument.presentation",
        "epub": "application/epub+zip",
        "csv": "text/csv; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "json": "application/json",
    ]

    /// The type of `bytes` named `title`.
    public static func mediaType(of bytes: [UInt8], title: String) -> String {
        mediaType(head: Array(bytes.prefix(headLength)), length: bytes.count, title: title)
    }

    /// How many leading bytes decide.
    public static let headLength = 8192

    /// The type of content of `length` bytes that begins with `head` (its first `headLength` bytes or all of it).
    public static func mediaType(head bytes: [UInt8], length: Int, title: String) -> String {
        let ext = FileTitle.fileExtension(title)
        func starts(_ signature: [UInt8]) -> Bool { bytes.count >= signature.count && Array(bytes.prefix(signature.count)) == signature }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)), bytes.count >= 12, Array(bytes[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) {
            if let type = byExtension[ext], !type.hasPrefix("text/"), type != "application/json" { return type }
            return "application/zip"
        }
        if starts([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            switch ext {
            case "doc": return "application/msword"
            case "xls": return "application/vnd.ms-excel"
            case "ppt": return "application/vnd.ms-powerpoint"
            default: return "application/x-ole-storage"
            }
        }
        if isText(bytes, cut: length > bytes.count) {
            if let type = byExtension[ext], type.hasPrefix("text/") || type == "application/json" { return type }
            // Served as plain text, never as HTML: an uploaded page must not run in the portal's origin.
            return "text/plain; charset=utf-8"
        }
        return "application/octet-stream"
    }

    /// UTF-8 with no NUL or other binary control bytes (tabs and line ends allowed), judged on the head.
    static func isText(_ sample: [UInt8], cut: Bool) -> Bool {
        guard !sample.contains(where: { $0 < 0x09 || (0x0E..<0x20).contains($0) && $0 != 0x1B }) else { return false }
        // A head cut inside a multi-byte character is still text.
        var trimmed = sample
        for _ in 0..<3 where cut && !trimmed.isEmpty && String(validating: trimmed, as: UTF8.self) == nil {
            trimmed.removeLast()
        }
        return String(validating: trimmed, as: UTF8.self) != nil
    }
}
