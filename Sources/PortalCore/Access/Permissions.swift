/// Who may do what in the portal (SPEC §4), as pure rules. Scopes are checked before these: an
/// OAuth token reaches a route only with its scope, and then has no more rights than its person.
public enum PeoplePolicy {
    /// Guests see only themselves; everyone else may list and read accounts.
    public static func mayList(_ actor: Person) -> Bool { actor.role != .guest }

    /// Reading one account.
    public static func mayRead(_ actor: Person, _ target: Person) -> Bool { actor.id == target.id || mayList(actor) }

    /// Adding an account with `role`: administrators only, and never a second owner; only the
    /// owner makes admins.
    public static func mayCreate(_ actor: Person, role: Role) -> Bool {
        guard actor.role.isAdministrator, role != .owner else { return false }
        return role != .admin || actor.role == .owner
    }

    /// Editing another account (names, role): administrators, never the owner's account unless the
    /// owner edits it; an admin neither promotes to admin nor changes another admin.
    public static func mayEdit(_ actor: Person, _ target: Person, newRole: Role?) -> Bool {
        if actor.id == target.id { return newRole == nil || newRole == target.role }
        guard actor.role.isAdministrator, target.role != .owner, newRole != .owner else { return false }
        if actor.role == .owner { return true }
        return target.role != .admin && newRole != .admin
    }

    /// Removing an account: the owner can never be removed, nobody removes themselves here, and an
    /// admin removes only users and guests.
    public static func mayRemove(_ actor: Person, _ target: Person) -> Bool {
        guard target.role != .owner, actor.id != target.id, actor.role.isAdministrator else { return false }
        return actor.role == .owner || target.role != .admin
    }
}

/// What a person may do inside a folder tree.
public enum FolderAccess: Int, Sendable, Comparable {
    /// Nothing; the tree does not exist for them (404).
    case none = 0
    /// List and download.
    case read
    /// Also create, rename, upload and delete folders and files.
    case write
    /// Also rename or delete the room and manage its members.
    case manage

    public static func < (lhs: FolderAccess, rhs: FolderAccess) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The access of `person` to a tree with this root, given their room membership (if any).
    /// "My documents" belong to their owner alone — administrators included, nobody else sees them;
    /// in a room, members act by their level and portal administrators manage every room.
    public static func of(_ person: Person, root: FolderRoot, membership: RoomAccess?) -> FolderAccess {
        switch root {
        case .myDocuments(let owner):
            return owner == person.id ? .manage : .none
        case .room:
            if person.role.isAdministrator { return .manage }
            switch membership {
            case .roomAdmin: return .manage
            case .editor: return person.role == .guest ? .read : .write
            case .viewer: return .read
            case nil: return .none
            }
        }
    }

    /// Creating rooms: everyone but guests.
    public static func mayCreateRoom(_ person: Person) -> Bool { person.role != .guest }
}
