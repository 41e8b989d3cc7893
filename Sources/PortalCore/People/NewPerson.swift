import Foundation

/// The checked input for a new account, from the CLI, the first start or the people API.
public struct NewPerson: Sendable, Equatable {
    /// Lowercased, trimmed email.
    public let email: String
    /// The password as given (hashed before it is stored).
    public let password: String
    /// Given name, trimmed.
    public let firstName: String
    /// Family name, trimmed.
    public let lastName: String
    /// Role of the account.
    public let role: Role

    /// The limits of RFC 5321 §4.5.3.1 (a path of at most 256 octets, so an address of at most 254).
    public static let maximumEmailLength = 254
    /// Passwords longer than this are refused outright (bcrypt reads 72 bytes; this bounds the work).
    public static let maximumPasswordLength = 1024
    /// Shortest password accepted for a new account.
    public static let minimumPasswordLength = 8
    /// Longest first or last name.
    public static let maximumNameLength = 255

    /// Validates and normalizes the input, or explains what is wrong with it.
    public static func validate(
        email: String, password: String, firstName: String, lastName: String, role: Role
    ) -> Result<NewPerson, PersonInputError> {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard EmailAddress.isPlausible(email) else { return .failure(.invalidEmail) }
        guard isAcceptablePassword(password) else { return .failure(.invalidPassword) }
        let first = firstName.trimmingCharacters(in: .whitespacesAndNewlines)
        let last = lastName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard isAcceptableName(first), isAcceptableName(last) else {
            return .failure(.invalidName)
        }
        return .success(NewPerson(email: email, password: password, firstName: first, lastName: last, role: role))
    }

    /// The name rule (first, last and display names, trimmed): at most 255 characters, on one line,
    /// with no control characters (Unicode category Cc: NUL, escapes, line breaks), which would end up
    /// in pages, tokens' claims and logs.
    public static func isAcceptableName(_ name: String) -> Bool {
        name.count <= maximumNameLength
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }
    }

    /// The password rule: 8 to 1,024 characters.
    public static func isAcceptablePassword(_ password: String) -> Bool {
        (minimumPasswordLength...maximumPasswordLength).contains(password.count)
    }

    private init(email: String, password: String, firstName: String, lastName: String, role: Role) {
        self.email = email
        self.password = password
        self.firstName = firstName
        self.lastName = lastName
        self.role = role
    }
}

/// Why an account's input was refused.
public enum PersonInputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not an email address, or longer than 254 characters.
    case invalidEmail
    /// Shorter than 8 or longer than 1024 characters.
    case invalidPassword
    /// A name longer than 255 characters.
    case invalidName
    /// Another account already has this email.
    case emailTaken
    case unknownPerson

    /// A sentence for the person or operator.
    public var description: String {
        switch self {
        case .invalidEmail: "email must be an address of at most \(NewPerson.maximumEmailLength) characters"
        case .invalidPassword:
            "password must be \(NewPerson.minimumPasswordLength) to \(NewPerson.maximumPasswordLength) characters"
        case .invalidName: "first and last name must be at most \(NewPerson.maximumNameLength) characters on one line, without control characters"
        case .emailTaken: "an account with this email already exists"
        case .unknownPerson: "there is no account with this email"
        }
    }
}

/// The shape check for email addresses: one `@`, a non-empty local part and a dotted or local domain.
public enum EmailAddress {
    /// `true` for `local@domain` of at most 254 characters with no spaces or control characters.
    public static func isPlausible(_ email: String) -> Bool {
        guard !email.isEmpty, email.count <= NewPerson.maximumEmailLength else { return false }
        guard !email.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } == true })
        else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
    }
}
