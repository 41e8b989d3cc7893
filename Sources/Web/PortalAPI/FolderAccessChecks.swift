import Foundation
import PortalCore

/// The one place that decides whether a caller reaches a folder or file (`FolderAccess`): a tree the
/// caller has no access to does not exist for them (404); one they see but may not change is 403.
struct FolderAccessChecks {
    let files: any FileStore

    /// The caller's access to the tree `folder` belongs to.
    func access(_ person: Person, to folder: Folder) async throws -> FolderAccess {
        switch folder.root {
        case .myDocuments:
            return FolderAccess.of(person, root: folder.root, membership: nil)
        case .room(let roomID):
            let membership = person.role.isAdministrator ? nil : try await files.membership(room: roomID, personID: person.id)
            return FolderAccess.of(person, root: folder.root, membership: membership)
        }
    }

    /// The folder `id` when the caller has at least `needed` access to it.
    func folder(_ id: Int64, for person: Person, needs needed: FolderAccess) async throws -> (folder: Folder, access: FolderAccess) {
        guard let folder = try await files.folder(id) else { throw AppError.notFound }
        let access = try await access(person, to: folder)
        guard access > .none else { throw AppError.notFound }
        guard access >= needed else { throw AppError.forbidden("Your access to this folder does not allow this.") }
        return (folder, access)
    }

    /// The file `id` and its folder when the caller has at least `needed` access to them.
    func file(_ id: Int64, for person: Person, needs needed: FolderAccess) async throws -> (file: StoredFile, folder: Folder) {
        guard let file = try await files.file(id) else { throw AppError.notFound }
        let (folder, _) = try await folder(file.folderID, for: person, needs: needed)
        return (file, folder)
    }
}
