import Foundation

/// An app's public identifier: a random UUID, lowercase, for apps registered here; the URL of its
/// metadata document for an app known by one (SPEC §6).
public struct ClientID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A new random identifier.
    public static func generate() -> ClientID { ClientID(rawValue: UUID().uuidString.lowercased()) }
    /// The identifier in `text` when it is a UUID (any case), normalized, or a client identifier URL
    /// (draft-ietf-oauth-client-id-metadata-document §3), exactly as given; `nil` otherwise.
    public init?(validating text: String) {
        if UUID(uuidString: text) != nil {
            rawValue = text.lowercased()
        } else if ClientMetadataDocument.isDocumentURL(text) {
            rawValue = text
        } else {
            return nil
        }
    }
    /// `text` as a stored client_id compares: a metadata document's URL exactly, anything else
    /// lowercased (ids given here are lowercase UUIDs). Unchecked: for filters and cursors.
    public init(normalizing text: String) {
        rawValue = text.hasPrefix("https://") ? text : text.lowercased()
    }
    /// Whether this is the URL of a metadata document rather than an id given here.
    public var isDocumentURL: Bool { rawValue.hasPrefix("https://") }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A registered OAuth app, as stored (the secret only as its SHA-256 hash; the icon bytes apart): its
/// identity and bookkeeping, and the `settings` a person chose (read through as `client.name` etc.).
@dynamicMemberLookup
public struct RegisteredClient: Sendable, Equatable {
    public var clientID: ClientID
    /// What the person set.
    public var settings: ClientSettings
    /// Format of the stored icon.
    public var logoFormat: Icon.Format
    /// Changes whenever the icon changes, so its URL can be cached forever.
    public var logoVersion: String
    public var enabled: Bool
    /// SHA-256 (hex) of the client secret.
    public var secretHash: String
    public var createdOn: Date
    /// Person id of the creator.
    public var createdBy: String
    public var modifiedOn: Date
    public var modifiedBy: String
    /// Who registered it: a person (the form, the clients API) or the app itself (SPEC §6).
    public var registrar: ClientRegistrar
    /// RFC 7592 §3: SHA-256 of the registration access token of an app that registered itself.
    public var registrationTokenHash: String?
    /// The opaque id of an app known by its metadata document, whose `client_id` is a URL (SPEC §6).
    public var documentAppID: String?

    /// The id in the clients API's and Developer Tools' paths (SPEC §6): the `client_id` of an app
    /// registered here, an opaque id for one known by its metadata document.
    public var id: String { documentAppID ?? clientID.rawValue }

    public init(
        clientID: ClientID, settings: ClientSettings, logoFormat: Icon.Format, logoVersion: String, enabled: Bool, secretHash: String,
        createdOn: Date, createdBy: String, modifiedOn: Date, modifiedBy: String, registrar: ClientRegistrar = .person,
        registrationTokenHash: String? = nil, documentAppID: String? = nil
    ) {
        self.documentAppID = documentAppID
        self.registrar = registrar
        self.registrationTokenHash = registrationTokenHash
        self.clientID = clientID
        self.settings = settings
        self.logoFormat = logoFormat
        self.logoVersion = logoVersion
        self.enabled = enabled
        self.secretHash = secretHash
        self.createdOn = createdOn
        self.createdBy = createdBy
        self.modifiedOn = modifiedOn
        self.modifiedBy = modifiedBy
    }

    /// `client.name`, `client.redirectURIs`, …: the settings, read and written in place.
    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<ClientSettings, Value>) -> Value {
        get { settings[keyPath: keyPath] }
        set { settings[keyPath: keyPath] = newValue }
    }

    /// Applies a validated registration (create or update).
    public mutating func apply(_ registration: ValidRegistration) {
        settings = registration.settings
        logoFormat = registration.logo.format
        logoVersion = Self.version(of: registration.logo)
    }

    /// The first 16 hex digits of the icon's SHA-256.
    public static func version(of icon: Icon) -> String {
        String(OpaqueToken.hash(icon.bytes.base64EncodedString()).prefix(16))
    }

    /// RFC 8414 §2 `token_endpoint_auth_methods_supported`, per app: a secret always; `none` with PKCE.
    public var authenticationMethods: [String] {
        if isPublicOnly { return ["none"] }
        return settings.allowPKCE ? ["client_secret_basic", "client_secret_post", "none"] : ["client_secret_basic", "client_secret_post"]
    }

    /// An app without a secret (registered by itself as `token_endpoint_auth_method=none`): PKCE only.
    public var isPublicOnly: Bool { secretHash.isEmpty }

    /// `true` when the client secret matches, compared in constant time on the hashes.
    public func secretMatches(_ secret: String) -> Bool {
        ConstantTime.equals(OpaqueToken.hash(secret), secretHash)
    }
}

/// Who registered an app (SPEC §6).
public enum ClientRegistrar: String, Sendable, Codable {
    /// A person, through the form or the clients API.
    case person
    /// The app itself, by dynamic client registration (RFC 7591).
    case app
    /// Nobody: the app is known by the metadata document at its `client_id` URL.
    case document = "metadata_document"

    /// Whether the consent screen warns about it and never remembers consent to it (RFC 8252 §8.6).
    public var isSelfAsserted: Bool { self != .person }
}

/// What happened to an app, for the audit log.
public enum ClientAuditAction: String, Sendable, Codable, CaseIterable {
    case created, updated, secretRegenerated = "secret_regenerated", enabled, disabled, deleted
}

/// One line of the audit log.
public struct ClientAuditEntry: Sendable, Equatable, Codable {
    public var id: Int
    public var clientID: ClientID
    public var action: ClientAuditAction
    public var actorID: String
    public var at: Date
    /// What changed (field names, never secrets).
    public var details: String

    public init(id: Int, clientID: ClientID, action: ClientAuditAction, actorID: String, at: Date, details: String) {
        self.id = id
        self.clientID = clientID
        self.action = action
        self.actorID = actorID
        self.at = at
        self.details = details
    }
}

/// Who made a change and when.
public struct ChangeStamp: Sendable {
    public let actorID: String
    public let at: Date
    public init(actorID: String, at: Date) {
        self.actorID = actorID
        self.at = at
    }
}
