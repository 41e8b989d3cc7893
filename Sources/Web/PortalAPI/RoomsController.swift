import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// Rooms of SPEC §4: folders that their members reach by access level; portal administrators see
/// and manage every room. A room's id works as a folder id on the files routes.
struct RoomsController {
    let files: any FileStore
    let people: any PersonStore
    let checks: FolderAccessChecks
    let clock: any TimeSource

    struct NewRoom: Decodable {
        let title: String?
        let roomType: String?
    }

    struct Invitation: Decodable {
        let id: String
        let access: String
    }

    struct ShareRequest: Decodable {
        let invitations: [Invitation]
    }

    struct Member: Encodable, Sendable {
        struct SharedTo: Encodable, Sendable {
            let id: String
            let displayName: String
            let email: String
        }
        let sharedTo: SharedTo
        let access: String
    }

    /// The most invitations one request may carry.
    static let maximumInvitations = 1000
    /// Room for `maximumInvitations` invitations (about 70 bytes each as compact JSON) with whitespace
    /// around them: the 64 KB of other JSON bodies would refuse a list long before its limit.
    static let shareBodyLimit = 256 * 1024

    func addRoutes(to routes: RouteGroup) {
        routes.get("/files/rooms", .api(oauth: .read("rooms"))) { _, context in
            let me = try PortalAPI.caller(context)
            let rooms = try await files.rooms(visibleTo: me.id, all: me.role.isAdministrator)
            return try PortalAPI.page(rooms.map(FilesController.FolderJSON.init), total: rooms.count)
        }
        routes.post("/files/rooms", .api(oauth: .write("rooms"))) { request, context in
            let me = try PortalAPI.caller(context)
            guard FolderAccess.mayCreateRoom(me) else { throw AppError.forbidden("Guests cannot create rooms.") }
            let body = try await RequestBody.json(NewRoom.self, from: request)
            let title = try PortalAPI.title(body.title)
            let type = try Self.roomType(body.roomType ?? RoomType.custom.rawValue)
            let room = try await files.createRoom(title: title, type: type, by: me.id, now: clock.now)
            return try DocSpaceEnvelope.response(FilesController.FolderJSON(room), status: .created)
        }
        routes.get("/files/rooms/{id}", .api(oauth: .read("rooms"))) { _, context in
            let me = try PortalAPI.caller(context)
            return try DocSpaceEnvelope.response(FilesController.FolderJSON(try await room(context, for: me, needs: .read)))
        }
        routes.put("/files/rooms/{id}", .api(oauth: .write("rooms"))) { request, context in
            let me = try PortalAPI.caller(context)
            let room = try await room(context, for: me, needs: .manage)
            let body = try await RequestBody.json(NewRoom.self, from: request)
            guard body.title != nil || body.roomType != nil else { throw AppError.badRequest("Send a 'title', a 'roomType', or both.") }
            let title = try body.title.map { try PortalAPI.title($0) }
            let type = try body.roomType.map(Self.roomType)
            if let title { guard try await files.renameFolder(room.id, title: title, now: clock.now) else { throw AppError.notFound } }
            if let type { guard try await files.setRoomType(room.id, type, now: clock.now) else { throw AppError.notFound } }
            guard let changed = try await files.folder(room.id) else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(FilesController.FolderJSON(changed))
        }
        routes.delete("/files/rooms/{id}", .api(oauth: .write("rooms"))) { _, context in
            let me = try PortalAPI.caller(context)
            let room = try await room(context, for: me, needs: .manage)
            guard try await files.deleteFolder(room.id) else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(FilesController.FolderJSON(room))
        }
        routes.get("/files/rooms/{id}/share", .api(oauth: .read("rooms"))) { _, context in
            let me = try PortalAPI.caller(context)
            let room = try await room(context, for: me, needs: .read)
            let members = try await memberList(room.id)
            return try PortalAPI.page(members, total: members.count)
        }
        routes.put("/files/rooms/{id}/share", .api(oauth: .write("rooms"))) { request, context in
            let me = try PortalAPI.caller(context)
            let room = try await room(context, for: me, needs: .manage)
            let body = try await RequestBody.json(ShareRequest.self, from: request, limit: Self.shareBodyLimit)
            guard !body.invitations.isEmpty, body.invitations.count <= Self.maximumInvitations else {
                throw AppError.badRequest("The field 'invitations' must hold 1 to \(Self.maximumInvitations) entries.")
            }
            var members: [RoomMember] = []
            for (index, invitation) in body.invitations.enumerated() {
                guard let access = RoomAccess(rawValue: invitation.access) else {
                    throw AppError.badRequest("invitations[\(index)].access must be one of RoomAdmin, Editor, Viewer.")
                }
                guard let id = PersonID(validating: invitation.id), let person = try await people.find(id: id)
                else { throw AppError.badRequest("invitations[\(index)].id is not a person of this portal.") }
                members.append(RoomMember(personID: person.id, access: access))
            }
            try await files.share(room: room.id, with: members)
            let list = try await memberList(room.id)
            return try PortalAPI.page(list, total: list.count)
        }
    }

    /// The room named by the path, when the caller has `needed` access (404 when not a member).
    func room(_ context: AppRequestContext, for person: Person, needs needed: FolderAccess) async throws -> Folder {
        let (folder, _) = try await checks.folder(try PortalAPI.numericID(context, "id"), for: person, needs: needed)
        guard folder.isRoom else { throw AppError.notFound }
        return folder
    }

    func memberList(_ roomID: Int64) async throws -> [Member] {
        var list: [Member] = []
        for member in try await files.members(room: roomID) {
            guard let person = try await people.find(id: member.personID) else { continue }
            list.append(Member(sharedTo: .init(id: person.id.rawValue, displayName: person.displayName, email: person.email),
                               access: member.access.rawValue))
        }
        return list
    }

    static func roomType(_ text: String) throws -> RoomType {
        guard let type = RoomType(rawValue: text) else {
            throw AppError.badRequest("The field 'roomType' must be one of collaboration, public, custom.")
        }
        return type
    }
}
