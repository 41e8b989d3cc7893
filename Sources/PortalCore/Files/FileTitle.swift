import Foundation

/// The name of a file, folder or room as DocSpace accepts it: 1 to 170 characters, none of
/// `/ \ : * ? " < > |` (they break paths on the desktop apps and in downloads), no control characters.
public enum FileTitle {
    /// The longest title accepted.
    public static let maximumLength = 170
    /// Characters a title must not contain.
    public static let forbidden: Set<Character> = ["/", "\\", ":", "*", "?", "\"", "<", ">", "|"]

    /// The extension of a title, lowercased and without its dot (`Report.DOCX` → `docx`); empty when the
    /// title has no part after a dot.
    public static func fileExtension(_ title: String) -> String {
        let parts = title.split(separator: ".")
        return parts.count > 1 ? parts[parts.count - 1].lowercased() : ""
    }

    /// The title trimmed of surrounding spaces, or why it is refused.
    public static func validate(_ text: String) -> Result<String, TitleError> {
        let title = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { return .failure(.empty) }
        guard title.count <= maximumLength else { return .failure(.tooLong) }
        guard !title.contains(where: { forbidden.contains($0) || $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } })
        else { return .failure(.forbiddenCharacter) }
        return .success(title)
    }
}

/// Why a title was refused.
public enum TitleError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooLong
    case forbiddenCharacter

    public var description: String {
        switch self {
        case .empty: "The title must not be empty."
        case .tooLong: "The title must be at most \(FileTitle.maximumLength) characters."
        case .forbiddenCharacter: #"The title must not contain / \ : * ? " < > | or control characters."#
        }
    }
}
