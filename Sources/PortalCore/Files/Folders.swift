import Foundation

/// DocSpace's room types (`roomType` in the API).
public enum RoomType: String, Sendable, Codable, CaseIterable {
    /// Members edit together.
    case collaboration
    /// Shared by link.
    case `public`
    /// Access as the room admins set it (the default).
    case custom
}

/// A member's access level in a room (DocSpace's names).
public enum RoomAccess: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads the room's folders and files.
    case viewer = "Viewer"
    /// Also adds, renames and deletes folders and files.
    case editor = "Editor"
    /// Also renames or deletes the room and manages its members.
    case roomAdmin = "RoomAdmin"

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .editor: 1
        case .roomAdmin: 2
        }
    }

    public static func < (lhs: RoomAccess, rhs: RoomAccess) -> Bool { lhs.rank < rhs.rank }
}

/// Where a folder tree lives: someone's "My documents", or a room.
public enum FolderRoot: Sendable, Equatable {
    /// The private tree of one person.
    case myDocuments(owner: PersonID)
    /// A room; its members reach it by their access level.
    case room(id: Int64)
}

/// A folder (a room's top folder is the room itself, so its id works as a folder id).
public struct Folder: Sendable, Equatable {
    public var id: Int64
    /// `nil` for a tree's top folder (My documents, or a room).
    public var parentID: Int64?
    /// The top folder of this tree.
    public var rootID: Int64
    public var root: FolderRoot
    public var title: String
    /// Set for rooms only.
    public var roomType: RoomType?
    public var createdBy: PersonID
    public var createdAt: Date
    public var modifiedAt: Date
    /// Grows with every change to the folder or what it directly holds, so a listing can be reused
    /// exactly while it stays the same.
    public var version: Int64

    public init(id: Int64, parentID: Int64?, rootID: Int64, root: FolderRoot, title: String, roomType: RoomType?,
                createdBy: PersonID, createdAt: Date, modifiedAt: Date, version: Int64 = 0) {
        self.version = version
        self.id = id
        self.parentID = parentID
        self.rootID = rootID
        self.root = root
        self.title = title
        self.roomType = roomType
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.modifiedAt = modifiedAt
    }

    /// `true` for a room's top folder.
    public var isRoom: Bool { roomType != nil }
}

/// A stored file; its bytes live in the blob store under `sha256`.
public struct StoredFile: Sendable, Equatable {
    public var id: Int64
    public var folderID: Int64
    public var rootID: Int64
    public var title: String
    public var contentType: String
    public var size: Int64
    /// Lowercase hex SHA-256 of the bytes.
    public var sha256: String
    public var createdBy: PersonID
    public var createdAt: Date
    public var modifiedAt: Date

    public init(id: Int64, folderID: Int64, rootID: Int64, title: String, contentType: String, size: Int64, sha256: String,
                createdBy: PersonID, createdAt: Date, modifiedAt: Date) {
        self.id = id
        self.folderID = folderID
        self.rootID = rootID
        self.title = title
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.modifiedAt = modifiedAt
    }
}

/// A member of a room.
public struct RoomMember: Sendable, Equatable {
    public var personID: PersonID
    public var access: RoomAccess

    public init(personID: PersonID, access: RoomAccess) {
        self.personID = personID
        self.access = access
    }
}
