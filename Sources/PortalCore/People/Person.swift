import Foundation

/// A person's stable identifier: a lowercase UUID string.
public struct PersonID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The UUID text.
    public let rawValue: String
    /// Wraps an identifier read from storage or a request.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A new random identifier.
    public static func generate() -> PersonID { PersonID(rawValue: UUID().uuidString.lowercased()) }
    /// The identifier in `text` when it is a UUID (any case), normalized; `nil` otherwise (as `ClientID(validating:)`).
    public init?(validating text: String) {
        guard UUID(uuidString: text) != nil else { return nil }
        rawValue = text.lowercased()
    }
    /// The UUID text.
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// What a person is in the portal (DocSpace's user types).
public enum Role: String, Sendable, Codable, CaseIterable {
    /// The first administrator; cannot be removed.
    case owner
    /// Manages people and every app.
    case admin
    /// A regular member.
    case user
    /// Sees only what is shared with them; registers no apps.
    case guest

    /// Owners and admins manage the portal.
    public var isAdministrator: Bool { self == .owner || self == .admin }
}

/// A member of the portal.
public struct Person: Sendable, Equatable, Codable {
    /// Stable identifier.
    public var id: PersonID
    /// Sign-in name, stored lowercased.
    public var email: String
    /// Given name.
    public var firstName: String
    /// Family name.
    public var lastName: String
    /// What the person is in the portal.
    public var role: Role
    /// When the account was made.
    public var createdAt: Date
    /// When the account last changed.
    public var updatedAt: Date
    /// The name the person chose to be shown under, if any.
    public var chosenDisplayName: String?

    /// Creates a person value.
    public init(id: PersonID, email: String, firstName: String, lastName: String, role: Role, createdAt: Date, updatedAt: Date,
                chosenDisplayName: String? = nil) {
        self.chosenDisplayName = chosenDisplayName
        self.id = id
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.role = role
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The chosen display name, else "First Last", else the email.
    public var displayName: String {
        if let chosenDisplayName, !chosenDisplayName.isEmpty { return chosenDisplayName }
        switch (firstName.isEmpty, lastName.isEmpty) {
        case (false, false): return firstName + " " + lastName
        case (false, true): return firstName
        case (true, false): return lastName
        case (true, true): return email
        }
    }
}
