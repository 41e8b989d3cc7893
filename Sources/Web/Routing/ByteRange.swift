import Foundation

/// One `Range: bytes=…` of RFC 9110 §14.1.2, resolved against a length. Several ranges in one
/// header are answered with the whole content (RFC 9110 §14.2 lets a server ignore `Range`).
enum ByteRange {
    enum Outcome: Equatable {
        /// No usable range header: send everything.
        case whole
        /// Send these bytes with 206.
        case part(ClosedRange<Int>)
        /// 416: the range lies outside the content.
        case unsatisfiable
    }

    static func resolve(_ header: String?, length: Int) -> Outcome {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0 else { return parts[1].isEmpty ? .whole : .unsatisfiable }
            guard length > 0 else { return .unsatisfiable }
            return .part(max(0, length - suffix)...(length - 1))
        }
        guard let start = Int(parts[0]), start >= 0 else { return .whole }
        guard start < length else { return .unsatisfiable }
        if parts[1].isEmpty { return .part(start...(length - 1)) }
        guard let end = Int(parts[1]), end >= start else { return .whole }
        return .part(start...min(end, length - 1))
    }
}
