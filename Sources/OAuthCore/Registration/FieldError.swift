/// DocSpace's error codes for the app registration form.
public enum FieldErrorCode: String, Sendable, Codable, Equatable {
    /// A required field is missing or empty.
    case emptyField = "EmptyFieldError"
    /// The name is too short or too long.
    case name = "ErrorName"
    /// A value does not have the required form, or there are too many or too few of them.
    case pattern = "ErrorPattern"
    /// A URL is not acceptable for this field.
    case wrongURL = "ErrorWrongURL"
    /// A scope is not in the catalog, or none was chosen.
    case invalidScope = "ErrorInvalidScope"
    /// The icon is not an acceptable image.
    case logo = "ErrorLogo"
}

/// One thing wrong with one field of a registration.
public struct FieldError: Error, Sendable, Codable, Equatable {
    /// The JSON name of the field (`redirect_uris`, `logo`, …).
    public let field: String
    /// DocSpace's code.
    public let code: FieldErrorCode
    /// A sentence for the person filling the form.
    public let message: String

    /// Creates a field error.
    public init(field: String, code: FieldErrorCode, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }
}

/// Every field error of one registration.
public struct FieldErrors: Error, Sendable, Equatable {
    /// The errors, in form order.
    public let errors: [FieldError]
    public init(_ errors: [FieldError]) { self.errors = errors }
}
