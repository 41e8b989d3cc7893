import Crypto
import Foundation
import Hummingbird
import NIOCore
import OAuthCore
import PortalCore

/// Files and folders of SPEC §4: "My documents", folders, uploads and downloads. The bytes live in
/// the database, so any process serves any file. Rooms are folders too (`RoomsController`).
struct FilesController {
    let files: any FileStore
    let checks: FolderAccessChecks
    let uploadLimit: Int
    let budget: BodyBudget
    let clock: any TimeSource
    let listings = ListingCache()
    /// The most parts an upload form may have: the file and a few fields beside it.
    static let maximumParts = 16

    struct FolderJSON: Encodable, Sendable {
        struct Creator: Encodable, Sendable { let id: String }
        let id: Int64
        let title: String
        let parentId: Int64
        let rootFolderId: Int64
        let rootFolderType: String
        let roomType: String?
        let isRoom: Bool
        let created: String
        let updated: String
        let createdBy: Creator

        init(_ folder: Folder) {
            id = folder.id
            title = folder.title
            parentId = folder.parentID ?? 0
            rootFolderId = folder.rootID
            switch folder.root {
            case .myDocuments: rootFolderType = "my"
            case .room: rootFolderType = "room"
            }
            roomType = folder.roomType?.rawValue
            isRoom = folder.isRoom
            created = RFC3339.string(folder.createdAt)
            updated = RFC3339.string(folder.modifiedAt)
            createdBy = Creator(id: folder.createdBy.rawValue)
        }
    }

    struct FileJSON: Encodable, Sendable {
        let id: Int64
        let title: String
        let folderId: Int64
        let rootFolderId: Int64
        let fileExst: String
        let mimeType: String
        let pureContentLength: Int64
        let contentLength: String
        let sha256: String
        let created: String
        let updated: String
        let createdBy: FolderJSON.Creator
        let viewUrl: String

        init(_ file: StoredFile) {
            id = file.id
            title = file.title
            folderId = file.folderID
            rootFolderId = file.rootID
            let ext = FileTitle.fileExtension(file.title)
            fileExst = ext.isEmpty ? "" : "." + ext
            mimeType = file.contentType
            pureContentLength = file.size
            contentLength = Timestamp.byteCount(file.size)
            sha256 = file.sha256
            created = RFC3339.string(file.createdAt)
            updated = RFC3339.string(file.modifiedAt)
            createdBy = .init(id: file.createdBy.rawValue)
            viewUrl = "/api/2.0/files/file/\(file.id)/content"
        }
    }

    /// `{"current", "folders", "files", "total"}`, DocSpace's folder content.
    struct Content: Encodable, Sendable {
        let current: FolderJSON
        let folders: [FolderJSON]
        let files: [FileJSON]
        let total: Int
    }

    struct TitleBody: Decodable {
        let title: String?
        let parentId: Int64?
    }

    func addRoutes(to routes: RouteGroup) {
        routes.get("/files/@my", .api(oauth: .read("files"))) { _, context in
            let me = try PortalAPI.caller(context)
            return try await listing(try await files.myDocuments(of: me.id, now: clock.now))
        }
        routes.get("/files/{folderId}", .api(oauth: .read("files"))) { _, context in
            let me = try PortalAPI.caller(context)
            let (folder, _) = try await checks.folder(try PortalAPI.numericID(context, "folderId"), for: me, needs: .read)
            return try await listing(folder)
        }
        routes.post("/files/folder/{id}", .api(oauth: .write("files"))) { request, context in
            let me = try PortalAPI.caller(context)
            let (parent, _) = try await checks.folder(try PortalAPI.numericID(context, "id"), for: me, needs: .write)
            let title = try PortalAPI.title(try await RequestBody.json(TitleBody.self, from: request).title)
            let folder = try await files.createFolder(parent: parent, title: title, by: me.id, now: clock.now)
            return try DocSpaceEnvelope.response(FolderJSON(folder), status: .created)
        }
        routes.get("/files/folder/{id}", .api(oauth: .read("files"))) { _, context in
            let me = try PortalAPI.caller(context)
            let (folder, _) = try await checks.folder(try PortalAPI.numericID(context, "id"), for: me, needs: .read)
            return try DocSpaceEnvelope.response(FolderJSON(folder))
        }
        routes.put("/files/folder/{id}", .api(oauth: .write("files"))) { request, context in
            let me = try PortalAPI.caller(context)
            let (folder, _) = try await checks.folder(try PortalAPI.numericID(context, "id"), for: me, needs: .write)
            guard folder.parentID != nil else { throw AppError.forbidden("A top folder is renamed through its room, if at all.") }
            let body = try await RequestBody.json(TitleBody.self, from: request)
            guard body.title != nil || body.parentId != nil else { throw AppError.badRequest("Send a 'title', a 'parentId', or both.") }
            let title = try body.title.map { try PortalAPI.title($0) }
            if let parentID = body.parentId {
                let (target, _) = try await checks.folder(parentID, for: me, needs: .write)
                guard target.rootID == folder.rootID else { throw AppError.badRequest("A folder moves only within its own tree.") }
                guard try await files.moveFolder(folder.id, to: target.id, now: clock.now) else {
                    throw AppError.badRequest("A folder cannot be moved into itself or into a folder inside it.")
                }
            }
            if let title { guard try await files.renameFolder(folder.id, title: title, now: clock.now) else { throw AppError.notFound } }
            guard let changed = try await files.folder(folder.id) else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(FolderJSON(changed))
        }
        routes.delete("/files/folder/{id}", .api(oauth: .write("files"))) { _, context in
            let me = try PortalAPI.caller(context)
            let (folder, _) = try await checks.folder(try PortalAPI.numericID(context, "id"), for: me, needs: .write)
            guard folder.parentID != nil else { throw AppError.forbidden("My documents and rooms are not deleted as folders.") }
            guard try await files.deleteFolder(folder.id) else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(FolderJSON(folder))
        }
        routes.post("/files/{folderId}/upload", .api(oauth: .write("files"))) { request, context in
            let me = try PortalAPI.caller(context)
            let (folder, _) = try await checks.folder(try PortalAPI.numericID(context, "folderId"), for: me, needs: .write)
            let file = try await upload(request, into: folder, by: me)
            return try DocSpaceEnvelope.response(FileJSON(file), status: .created)
        }
        routes.get("/files/file/{fileId}", .api(oauth: .read("files"))) { _, context in
            let me = try PortalAPI.caller(context)
            return try DocSpaceEnvelope.response(FileJSON(try await checks.file(try PortalAPI.numericID(context, "fileId"), for: me, needs: .read).file))
        }
        routes.put("/files/file/{fileId}", .api(oauth: .write("files"))) { request, context in
            let me = try PortalAPI.caller(context)
            let (file, _) = try await checks.file(try PortalAPI.numericID(context, "fileId"), for: me, needs: .write)
            let title = try PortalAPI.title(try await RequestBody.json(TitleBody.self, from: request).title)
            guard try await files.renameFile(file.id, title: title, now: clock.now), let changed = try await files.file(file.id) else {
                throw AppError.notFound
            }
            return try DocSpaceEnvelope.response(FileJSON(changed))
        }
        routes.delete("/files/file/{fileId}", .api(oauth: .write("files"))) { _, context in
            let me = try PortalAPI.caller(context)
            let (file, _) = try await checks.file(try PortalAPI.numericID(context, "fileId"), for: me, needs: .write)
            guard try await files.deleteFile(file.id) else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(FileJSON(file))
        }
        routes.get("/files/file/{fileId}/content", .api(oauth: .read("files"))) { request, context in
            let me = try PortalAPI.caller(context)
            let (file, _) = try await checks.file(try PortalAPI.numericID(context, "fileId"), for: me, needs: .read)
            guard let bytes = try await files.content(sha256: file.sha256) else { throw AppError.notFound }
            return download(file, bytes: bytes, range: request.headers[.range])
        }
    }

    /// The folder's content; reused from `listings` while the folder's version is unchanged.
    func listing(_ folder: Folder) async throws -> Response {
        if let body = listings.body(folderID: folder.id, version: folder.version) { return JSONResponse.bytes(body) }
        let (folders, storedFiles) = try await files.contents(of: folder.id)
        let content = Content(current: FolderJSON(folder), folders: folders.map(FolderJSON.init), files: storedFiles.map(FileJSON.init),
                              total: folders.count + storedFiles.count)
        let body = try DocSpaceEnvelope.bytes(content, count: content.total)
        listings.store(folderID: folder.id, version: folder.version, body: body)
        return JSONResponse.bytes(body)
    }

    /// Reads the multipart body (never more than the limit plus the form's own overhead), keeps the
    /// field `file`, sniffs its type and stores it with its SHA-256 in one transaction. The body is
    /// read only once twice its declared length (or the most it may be) fits in the upload budget:
    /// the body as read, and the copy the database driver makes of the file while storing it.
    func upload(_ request: Request, into folder: Folder, by person: Person) async throws -> StoredFile {
        let overhead = 64 * 1024
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > uploadLimit + overhead {
            throw AppError.payloadTooLarge(limit: uploadLimit)
        }
        return try await budget.withReservation(2 * (declared ?? uploadLimit + overhead)) {
            let form: MultipartForm
            do {
                form = try await MultipartForm.read(request, limit: uploadLimit + overhead, maximumParts: Self.maximumParts)
            } catch AppError.payloadTooLarge {
                throw AppError.payloadTooLarge(limit: uploadLimit)
            }
            guard let part = form.upload("file") else { throw AppError.badRequest("The form has no file in the field 'file'.") }
            guard part.data.count <= uploadLimit else { throw AppError.payloadTooLarge(limit: uploadLimit) }
            let title = try PortalAPI.title(part.filename)
            let sha256 = SHA256.hash(data: part.data).hexString
            let type = ContentSniffing.mediaType(head: Array(part.data.prefix(ContentSniffing.headLength)), length: part.data.count, title: title)
            return try await files.addFile(to: folder, title: title, contentType: type, bytes: part.data, sha256: sha256, by: person.id,
                                           now: clock.now)
        }
    }

    /// The exact bytes, as an attachment with the stored type, whole or one range (RFC 9110 §14).
    func download(_ file: StoredFile, bytes: Data, range: String?) -> Response {
        var headers: HTTPFields = [
            .contentType: file.contentType, .acceptRanges: "bytes", .eTag: "\"\(file.sha256)\"",
            .contentDisposition: Self.attachment(file.title), .contentSecurityPolicy: "sandbox; default-src 'none'",
        ]
        switch ByteRange.resolve(range, length: bytes.count) {
        case .whole:
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .part(let part):
            headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(bytes.count)"
            let slice = bytes[(bytes.startIndex + part.lowerBound)...(bytes.startIndex + part.upperBound)]
            return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: slice)))
        case .unsatisfiable:
            // RFC 9110 §15.5.17: the length in Content-Range; the body is the API's own error, never file bytes.
            return PortalAPI.errorResponse(
                status: .rangeNotSatisfiable, message: "The requested range lies outside the file's \(bytes.count) bytes.",
                headers: [.contentRange: "bytes */\(bytes.count)", .acceptRanges: "bytes"]
            )
        }
    }

    /// RFC 6266 §4: an ASCII fallback name and the exact UTF-8 name (RFC 8187).
    static func attachment(_ title: String) -> String {
        let fallback = String(title.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").union(CharacterSet(charactersIn: "!#$&+-.^_`|~"))
        let encoded = title.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}

/// Dates and sizes as the portal API writes them, without a `DateFormatter` on the hot path.
enum Timestamp {
    /// DocSpace's human size: `512 B`, `1.5 KB`, `20 MB`.
    static func byteCount(_ size: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(size)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(size) B" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) \(units[unit])" : "\(rounded) \(units[unit])"
    }
}
