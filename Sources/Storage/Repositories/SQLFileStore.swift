import Foundation
import PortalCore
import SQLKit

/// Folders, files, blobs and rooms on SQL. A file's bytes are a row of `blobs` keyed by their
/// SHA-256, written in the same transaction as the file row, so a failed upload leaves nothing.
public struct SQLFileStore: FileStore {
    private let database: any Database

    public init(database: any Database) { self.database = database }

    static let folderColumns = "id, parent_id, root_id, kind, owner_id, room_type, title, created_by, created_at, modified_at, version"
    /// Folders with the kind and owner of their tree's top folder, which decide who may see them.
    static let folderSelect = """
        SELECT f.id, f.parent_id, f.root_id, f.kind, f.owner_id, f.room_type, f.title, f.created_by, f.created_at, f.modified_at,
               f.version, r.kind AS root_kind, r.owner_id AS root_owner
        FROM folders f JOIN folders r ON r.id = f.root_id
        """
    static let fileColumns = "id, folder_id, root_id, title, content_type, size, sha256, created_by, created_at, modified_at"

    /// The one folder a condition on `f` picks, with its tree.
    static func folder(where condition: SQLQueryString, _ sql: any SQLDatabase) async throws -> Folder? {
        try await sql.raw("\(unsafeRaw: folderSelect) WHERE \(condition)").first().map(folder)
    }

    // MARK: folders

    public func myDocuments(of personID: PersonID, now: Date) async throws -> Folder {
        let mine: SQLQueryString = "f.owner_id = \(bind: personID.rawValue)"
        if let existing = try await database.read({ try await Self.folder(where: mine, $0) }) { return existing }
        return try await database.write { sql in
            if let row = try await sql.raw("""
                INSERT INTO folders (parent_id, kind, owner_id, title, created_by, created_at, modified_at)
                VALUES (NULL, 'my', \(bind: personID.rawValue), 'My documents', \(bind: personID.rawValue),
                        \(bind: now.unixSeconds), \(bind: now.unixSeconds))
                ON CONFLICT (owner_id) DO NOTHING RETURNING id
                """).first() {
                let id = try row.decode(column: "id", as: Int64.self)
                try await sql.raw("UPDATE folders SET root_id = id WHERE id = \(bind: id)").run()
            }
            guard let folder = try await Self.folder(where: mine, sql) else { throw FileStoreError.missing }
            return folder
        }
    }

    public func folder(_ id: Int64) async throws -> Folder? {
        try await database.read { try await Self.folder(where: "f.id = \(bind: id)", $0) }
    }

    public func contents(of folderID: Int64) async throws -> (folders: [Folder], files: [StoredFile]) {
        try await database.read { sql in
            let folders = try await sql.raw("""
                \(unsafeRaw: Self.folderSelect) WHERE f.parent_id = \(bind: folderID) ORDER BY f.title, f.id
                """).all().map(Self.folder)
            let files = try await sql.raw("""
                SELECT \(unsafeRaw: Self.fileColumns) FROM files WHERE folder_id = \(bind: folderID) ORDER BY title, id
                """).all().map(Self.file)
            return (folders, files)
        }
    }

    public func createFolder(parent: Folder, title: String, by personID: PersonID, now: Date) async throws -> Folder {
        try await database.write { sql in
            guard let row = try await sql.raw("""
                INSERT INTO folders (parent_id, root_id, kind, title, created_by, created_at, modified_at)
                SELECT id, root_id, 'folder', \(bind: title), \(bind: personID.rawValue), \(bind: now.unixSeconds), \(bind: now.unixSeconds)
                FROM folders WHERE id = \(bind: parent.id)
                RETURNING \(unsafeRaw: Self.folderColumns)
                """).first()
            else { throw FileStoreError.missing }
            try await Self.touch([parent.id], sql)
            return try Self.folder(row, rootKind: parent.root)
        }
    }

    public func renameFolder(_ id: Int64, title: String, now: Date) async throws -> Bool {
        try await database.write { sql in
            guard let row = try await sql.raw("""
                UPDATE folders SET title = \(bind: title), modified_at = \(bind: now.unixSeconds), version = version + 1
                WHERE id = \(bind: id) AND kind <> 'my' RETURNING parent_id
                """).first()
            else { return false }
            try await Self.touch([try row.decode(column: "parent_id", as: Int64?.self)], sql)
            return true
        }
    }

    public func deleteFolder(_ id: Int64) async throws -> Bool {
        try await database.write { sql in
            // Subfolders, files and memberships go by cascade; then the bytes nobody uses any more.
            guard let row = try await sql.raw("DELETE FROM folders WHERE id = \(bind: id) AND kind <> 'my' RETURNING parent_id").first()
            else { return false }
            try await Self.touch([try row.decode(column: "parent_id", as: Int64?.self)], sql)
            try await Self.collectUnusedBlobs(sql)
            return true
        }
    }

    public func moveFolder(_ id: Int64, to parentID: Int64, now: Date) async throws -> Bool {
        try await database.write { sql in
            // Not into itself or anything below it (the ancestors of the target must not include it).
            let ancestors = try await sql.raw("""
                WITH RECURSIVE up(id, parent_id) AS (
                    SELECT id, parent_id FROM folders WHERE id = \(bind: parentID)
                    UNION ALL SELECT f.id, f.parent_id FROM folders f JOIN up ON f.id = up.parent_id
                ) SELECT id FROM up
                """).all().map { try $0.decode(column: "id", as: Int64.self) }
            guard !ancestors.contains(id),
                  let before = try await sql.raw("SELECT parent_id FROM folders WHERE id = \(bind: id) AND kind = 'folder'").first()
            else { return false }
            try await sql.raw("""
                UPDATE folders SET parent_id = \(bind: parentID), modified_at = \(bind: now.unixSeconds), version = version + 1
                WHERE id = \(bind: id)
                """).run()
            try await Self.touch([try before.decode(column: "parent_id", as: Int64?.self), parentID], sql)
            return true
        }
    }

    // MARK: files

    public func file(_ id: Int64) async throws -> StoredFile? {
        try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.fileColumns) FROM files WHERE id = \(bind: id)").first().map(Self.file)
        }
    }

    public func addFile(to folder: Folder, title: String, contentType: String, bytes: Data, sha256: String, by personID: PersonID,
                        now: Date) async throws -> StoredFile {
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO blobs (sha256, size, data) VALUES (\(bind: sha256), \(bind: Int64(bytes.count)), \(bind: bytes))
                ON CONFLICT (sha256) DO NOTHING
                """).run()
            guard let row = try await sql.raw("""
                INSERT INTO files (folder_id, root_id, title, content_type, size, sha256, created_by, created_at, modified_at)
                SELECT id, root_id, \(bind: title), \(bind: contentType), \(bind: Int64(bytes.count)), \(bind: sha256),
                       \(bind: personID.rawValue), \(bind: now.unixSeconds), \(bind: now.unixSeconds)
                FROM folders WHERE id = \(bind: folder.id)
                RETURNING \(unsafeRaw: Self.fileColumns)
                """).first()
            else { throw FileStoreError.missing }
            try await Self.touch([folder.id], sql)
            return try Self.file(row)
        }
    }

    public func content(sha256: String) async throws -> Data? {
        try await database.read { sql in
            try await sql.raw("SELECT data FROM blobs WHERE sha256 = \(bind: sha256)").first()
                .map { try $0.decode(column: "data", as: Data.self) }
        }
    }

    public func renameFile(_ id: Int64, title: String, now: Date) async throws -> Bool {
        try await database.write { sql in
            guard let row = try await sql.raw("""
                UPDATE files SET title = \(bind: title), modified_at = \(bind: now.unixSeconds) WHERE id = \(bind: id) RETURNING folder_id
                """).first()
            else { return false }
            try await Self.touch([try row.decode(column: "folder_id", as: Int64.self)], sql)
            return true
        }
    }

    public func deleteFile(_ id: Int64) async throws -> Bool {
        try await database.write { sql in
            guard let row = try await sql.raw("DELETE FROM files WHERE id = \(bind: id) RETURNING sha256, folder_id").first() else { return false }
            let sha256 = try row.decode(column: "sha256", as: String.self)
            try await Self.touch([try row.decode(column: "folder_id", as: Int64.self)], sql)
            try await sql.raw("""
                DELETE FROM blobs WHERE sha256 = \(bind: sha256) AND NOT EXISTS (SELECT 1 FROM files WHERE files.sha256 = blobs.sha256)
                """).run()
            return true
        }
    }

    /// Deletes the blobs no file points at any more (after folders or people were removed).
    static func collectUnusedBlobs(_ sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM files WHERE files.sha256 = blobs.sha256)").run()
    }

    // MARK: rooms

    public func createRoom(title: String, type: RoomType, by personID: PersonID, now: Date) async throws -> Folder {
        try await database.write { sql in
            guard let row = try await sql.raw("""
                INSERT INTO folders (parent_id, kind, room_type, title, created_by, created_at, modified_at)
                VALUES (NULL, 'room', \(bind: type.rawValue), \(bind: title), \(bind: personID.rawValue),
                        \(bind: now.unixSeconds), \(bind: now.unixSeconds))
                RETURNING id
                """).first()
            else { throw FileStoreError.missing }
            let id = try row.decode(column: "id", as: Int64.self)
            try await sql.raw("UPDATE folders SET root_id = id WHERE id = \(bind: id)").run()
            try await sql.raw("""
                INSERT INTO room_members (room_id, person_id, access)
                VALUES (\(bind: id), \(bind: personID.rawValue), \(bind: RoomAccess.roomAdmin.rawValue))
                """).run()
            guard let room = try await Self.folder(where: "f.id = \(bind: id)", sql) else { throw FileStoreError.missing }
            return room
        }
    }

    public func rooms(visibleTo personID: PersonID, all: Bool) async throws -> [Folder] {
        try await database.read { sql in
            if all {
                return try await sql.raw("""
                    \(unsafeRaw: Self.folderSelect) WHERE f.kind = 'room' ORDER BY f.title, f.id
                    """).all().map(Self.folder)
            }
            return try await sql.raw("""
                \(unsafeRaw: Self.folderSelect)
                WHERE f.kind = 'room' AND f.id IN (SELECT room_id FROM room_members WHERE person_id = \(bind: personID.rawValue))
                ORDER BY f.title, f.id
                """).all().map(Self.folder)
        }
    }

    public func setRoomType(_ id: Int64, _ type: RoomType, now: Date) async throws -> Bool {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE folders SET room_type = \(bind: type.rawValue), modified_at = \(bind: now.unixSeconds), version = version + 1
                WHERE id = \(bind: id) AND kind = 'room' RETURNING id
                """).first() != nil
        }
    }

    public func membership(room: Int64, personID: PersonID) async throws -> RoomAccess? {
        try await database.read { sql in
            try await sql.raw("""
                SELECT access FROM room_members WHERE room_id = \(bind: room) AND person_id = \(bind: personID.rawValue)
                """).first().flatMap { RoomAccess(rawValue: try $0.decode(column: "access", as: String.self)) }
        }
    }

    public func members(room: Int64) async throws -> [RoomMember] {
        try await database.read { sql in
            try await sql.raw("SELECT person_id, access FROM room_members WHERE room_id = \(bind: room) ORDER BY person_id")
                .all().compactMap { row in
                    guard let access = RoomAccess(rawValue: try row.decode(column: "access", as: String.self)) else { return nil }
                    return RoomMember(personID: PersonID(rawValue: try row.decode(column: "person_id", as: String.self)), access: access)
                }
        }
    }

    public func share(room: Int64, with members: [RoomMember]) async throws {
        try await database.write { sql in
            for member in members {
                try await sql.raw("""
                    INSERT INTO room_members (room_id, person_id, access)
                    VALUES (\(bind: room), \(bind: member.personID.rawValue), \(bind: member.access.rawValue))
                    ON CONFLICT (room_id, person_id) DO UPDATE SET access = EXCLUDED.access
                    """).run()
            }
        }
    }

    // MARK: rows

    static func folder(_ row: any SQLRow) throws -> Folder {
        let id = try row.decode(column: "id", as: Int64.self)
        let rootID = try row.decode(column: "root_id", as: Int64?.self) ?? id
        let root: FolderRoot
        if try row.decode(column: "root_kind", as: String.self) == "my", let owner = try row.decode(column: "root_owner", as: String?.self) {
            root = .myDocuments(owner: PersonID(rawValue: owner))
        } else {
            root = .room(id: rootID)
        }
        return try folder(row, rootKind: root)
    }

    /// A folder row whose tree is known (subfolders carry only `root_id`).
    static func folder(_ row: any SQLRow, rootKind: FolderRoot) throws -> Folder {
        let id = try row.decode(column: "id", as: Int64.self)
        return Folder(
            id: id, parentID: try row.decode(column: "parent_id", as: Int64?.self),
            rootID: try row.decode(column: "root_id", as: Int64?.self) ?? id, root: rootKind,
            title: try row.decode(column: "title", as: String.self),
            roomType: try row.decode(column: "room_type", as: String?.self).flatMap(RoomType.init(rawValue:)),
            createdBy: PersonID(rawValue: try row.decode(column: "created_by", as: String.self)),
            createdAt: Date(unixSeconds: try row.decode(column: "created_at", as: Int64.self)),
            modifiedAt: Date(unixSeconds: try row.decode(column: "modified_at", as: Int64.self)),
            version: try row.decode(column: "version", as: Int64.self)
        )
    }

    /// Marks folders as changed: their listings are built anew.
    static func touch(_ ids: [Int64?], _ sql: any SQLDatabase) async throws {
        for id in Set(ids.compactMap { $0 }) {
            try await sql.raw("UPDATE folders SET version = version + 1 WHERE id = \(bind: id)").run()
        }
    }

    static func file(_ row: any SQLRow) throws -> StoredFile {
        StoredFile(
            id: try row.decode(column: "id", as: Int64.self), folderID: try row.decode(column: "folder_id", as: Int64.self),
            rootID: try row.decode(column: "root_id", as: Int64.self), title: try row.decode(column: "title", as: String.self),
            contentType: try row.decode(column: "content_type", as: String.self), size: try row.decode(column: "size", as: Int64.self),
            sha256: try row.decode(column: "sha256", as: String.self),
            createdBy: PersonID(rawValue: try row.decode(column: "created_by", as: String.self)),
            createdAt: Date(unixSeconds: try row.decode(column: "created_at", as: Int64.self)),
            modifiedAt: Date(unixSeconds: try row.decode(column: "modified_at", as: Int64.self))
        )
    }
}

/// A row that had to be there was not (a concurrent delete); the request fails as 404.
public enum FileStoreError: Error {
    case missing
}
