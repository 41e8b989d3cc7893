import Foundation

/// Storage of folders, files, their bytes and rooms. Every change is one transaction: a failed
/// upload leaves neither a file row nor a blob behind.
public protocol FileStore: Sendable {
    /// The person's "My documents" folder, made on first use.
    func myDocuments(of personID: PersonID, now: Date) async throws -> Folder
    /// One folder.
    func folder(_ id: Int64) async throws -> Folder?
    /// The subfolders and files of a folder, in title order.
    func contents(of folderID: Int64) async throws -> (folders: [Folder], files: [StoredFile])
    /// A new folder under `parent`.
    func createFolder(parent: Folder, title: String, by personID: PersonID, now: Date) async throws -> Folder
    /// Renames a folder or room; `false` when it is gone.
    func renameFolder(_ id: Int64, title: String, now: Date) async throws -> Bool
    /// Deletes a folder (or room) with everything below it; blobs no longer used go too.
    func deleteFolder(_ id: Int64) async throws -> Bool
    /// Moves a folder under another of the same tree; `false` when that would put it inside itself.
    func moveFolder(_ id: Int64, to parentID: Int64, now: Date) async throws -> Bool

    /// One file.
    func file(_ id: Int64) async throws -> StoredFile?
    /// Stores bytes and a file row in one transaction (the blob is shared by equal contents).
    func addFile(to folder: Folder, title: String, contentType: String, bytes: Data, sha256: String, by personID: PersonID,
                 now: Date) async throws -> StoredFile
    /// The bytes of a file.
    func content(sha256: String) async throws -> Data?
    /// Renames a file; `false` when it is gone.
    func renameFile(_ id: Int64, title: String, now: Date) async throws -> Bool
    /// Deletes a file (and its blob when no other file uses it).
    func deleteFile(_ id: Int64) async throws -> Bool

    /// A new room, with its creator as `RoomAdmin`.
    func createRoom(title: String, type: RoomType, by personID: PersonID, now: Date) async throws -> Folder
    /// The rooms `personID` is a member of, or every room when `all`.
    func rooms(visibleTo personID: PersonID, all: Bool) async throws -> [Folder]
    /// Changes a room's type.
    func setRoomType(_ id: Int64, _ type: RoomType, now: Date) async throws -> Bool
    /// A person's level in a room, if a member.
    func membership(room: Int64, personID: PersonID) async throws -> RoomAccess?
    /// The members of a room.
    func members(room: Int64) async throws -> [RoomMember]
    /// Sets members' levels (adding them when new) in one transaction.
    func share(room: Int64, with members: [RoomMember]) async throws
}
