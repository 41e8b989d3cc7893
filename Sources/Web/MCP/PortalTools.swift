import Crypto
import Foundation
import MCP
import OAuthCore
import PortalCore

/// The nine tools of the MCP server (SPEC §6), each over the same stores and access checks as its
/// portal API route, and each needing the scope that route needs. The person's role decides as on
/// the API: a refusal is a tool result with `isError`, as are arguments of the wrong type (MCP
/// 2025-11-25 reports input validation as tool errors).
struct PortalTools: Sendable {
    let directory: any PeopleDirectory
    let people: any PersonStore
    let files: any FileStore
    let checks: FolderAccessChecks
    let uploadLimit: Int
    let clock: any TimeSource

    /// The most text `read_file` returns; a larger file is described by its metadata.
    static let readLimit = 1024 * 1024

    /// One tool: how clients see it, and the scope its API route needs.
    struct Definition: Sendable {
        let tool: Tool
        let scope: ScopeRequirement
    }

    static func schema(_ properties: [String: Value], required: [String] = []) -> Value {
        .object(["type": .string("object"), "properties": .object(properties), "required": .array(required.map(Value.string)),
                 "additionalProperties": .bool(false)])
    }

    static let integer: Value = .object(["type": .string("integer")])
    static func text(_ description: String) -> Value { .object(["type": .string("string"), "description": .string(description)]) }

    /// Every tool, in the order `tools/list` gives them.
    static let definitions: [Definition] = [
        Definition(tool: Tool(name: "whoami", description: "The signed-in person: id, name, email and role.", inputSchema: schema([:]),
                              annotations: .init(readOnlyHint: true)), scope: .read("accounts.self")),
        Definition(tool: Tool(name: "list_folder", description: "The folders and files in a folder; My documents when folderId is left out.",
                              inputSchema: schema(["folderId": integer]), annotations: .init(readOnlyHint: true)), scope: .read("files")),
        Definition(tool: Tool(name: "read_file", description: "A file's text (up to 1 MB); otherwise its metadata.",
                              inputSchema: schema(["fileId": integer], required: ["fileId"]), annotations: .init(readOnlyHint: true)),
                   scope: .read("files")),
        Definition(tool: Tool(name: "create_folder", description: "Makes a folder in a folder.",
                              inputSchema: schema(["parentId": integer, "title": text("The new folder's name.")], required: ["parentId", "title"])),
                   scope: .write("files")),
        Definition(tool: Tool(name: "upload_text_file", description: "Stores a text file in a folder.",
                              inputSchema: schema(["folderId": integer, "title": text("The file name, e.g. notes.txt."), "content": text("The text.")],
                                                  required: ["folderId", "title", "content"])),
                   scope: .write("files")),
        Definition(tool: Tool(name: "list_rooms", description: "The rooms the person can see.", inputSchema: schema([:]),
                              annotations: .init(readOnlyHint: true)), scope: .read("rooms")),
        Definition(tool: Tool(name: "create_room", description: "Makes a room (roomType: collaboration, public or custom).",
                              inputSchema: schema(["title": text("The room's name."), "roomType": text("collaboration, public or custom.")],
                                                  required: ["title"])),
                   scope: .write("rooms")),
        Definition(tool: Tool(name: "share_room", description: "Invites people to a room (access: RoomAdmin, Editor or Viewer).",
                              inputSchema: schema([
                                "roomId": integer,
                                "invitations": .object(["type": .string("array"), "items": schema(["id": text("A person's id."),
                                                                                                    "access": text("RoomAdmin, Editor or Viewer.")],
                                                                                                   required: ["id", "access"])]),
                              ], required: ["roomId", "invitations"])),
                   scope: .write("rooms")),
        Definition(tool: Tool(name: "list_people", description: "People of the portal, optionally filtered by name or email.",
                              inputSchema: schema(["filter": text("Part of a name or email.")]), annotations: .init(readOnlyHint: true)),
                   scope: .read("accounts")),
    ]

    static let byName: [String: Definition] = Dictionary(uniqueKeysWithValues: definitions.map { ($0.tool.name, $0) })

    /// A tool's input that is not what its schema says: named in the tool error.
    struct WrongArgument: Error {
        let message: String
    }

    /// Runs the tool for `person`. The scope was checked before the call was dispatched.
    func call(_ name: String, arguments: [String: Value], as person: Person) async -> CallTool.Result {
        func text(_ value: String) -> Tool.Content { .text(text: value, annotations: nil, _meta: nil) }
        do {
            if let definition = Self.byName[name] { try Self.check(arguments, against: definition.tool) }
            let output = try await run(name, Arguments(values: arguments, tool: name), person)
            return CallTool.Result(content: [text(output)], isError: false)
        } catch let wrong as WrongArgument {
            return CallTool.Result(content: [text(wrong.message)], isError: true)
        } catch let refusal as AppError {
            return CallTool.Result(content: [text(refusal.status == .notFound ? "Not found, or not yours to see." : refusal.detail)], isError: true)
        } catch {
            return CallTool.Result(content: [text("The tool failed on the server; try again later.")], isError: true)
        }
    }

    private func run(_ name: String, _ arguments: Arguments, _ me: Person) async throws -> String {
        let now = clock.now
        switch name {
        case "whoami":
            return try Self.json(PeopleController.Profile(me))
        case "list_folder":
            let folder: Folder
            if let id = try arguments.integer("folderId", required: false) {
                folder = try await checks.folder(id, for: me, needs: .read).folder
            } else {
                folder = try await files.myDocuments(of: me.id, now: now)
            }
            let (folders, stored) = try await files.contents(of: folder.id)
            return try Self.json(FilesController.Content(
                current: .init(folder), folders: folders.map(FilesController.FolderJSON.init), files: stored.map(FilesController.FileJSON.init),
                total: folders.count + stored.count
            ))
        case "read_file":
            let (file, _) = try await checks.file(try arguments.integer("fileId")!, for: me, needs: .read)
            if file.size <= Self.readLimit, let bytes = try await files.content(sha256: file.sha256),
               let text = String(data: bytes, encoding: .utf8), !text.contains("\0") {
                return text
            }
            return "The file is not text of at most 1 MB; its metadata:\n" + (try Self.json(FilesController.FileJSON(file)))
        case "create_folder":
            let (parent, _) = try await checks.folder(try arguments.integer("parentId")!, for: me, needs: .write)
            let title = try PortalAPI.title(try arguments.string("title")!)
            return try Self.json(FilesController.FolderJSON(try await files.createFolder(parent: parent, title: title, by: me.id, now: now)))
        case "upload_text_file":
            let (folder, _) = try await checks.folder(try arguments.integer("folderId")!, for: me, needs: .write)
            let title = try PortalAPI.title(try arguments.string("title")!)
            let bytes = Data(try arguments.string("content")!.utf8)
            guard bytes.count <= uploadLimit else { throw AppError.payloadTooLarge(limit: uploadLimit) }
            let type = ContentSniffing.mediaType(head: Array(bytes.prefix(ContentSniffing.headLength)), length: bytes.count, title: title)
            let file = try await files.addFile(to: folder, title: title, contentType: type, bytes: bytes,
                                               sha256: SHA256.hash(data: bytes).hexString, by: me.id, now: now)
            return try Self.json(FilesController.FileJSON(file))
        case "list_rooms":
            let rooms = try await files.rooms(visibleTo: me.id, all: me.role.isAdministrator)
            return try Self.json(rooms.map(FilesController.FolderJSON.init))
        case "create_room":
            guard FolderAccess.mayCreateRoom(me) else { throw AppError.forbidden("Guests cannot create rooms.") }
            let title = try PortalAPI.title(try arguments.string("title")!)
            let type = try RoomsController.roomType(try arguments.string("roomType", required: false) ?? RoomType.custom.rawValue)
            return try Self.json(FilesController.FolderJSON(try await files.createRoom(title: title, type: type, by: me.id, now: now)))
        case "share_room":
            let (room, _) = try await checks.folder(try arguments.integer("roomId")!, for: me, needs: .manage)
            guard room.isRoom else { throw AppError.notFound }
            let invitations = try arguments.objects("invitations")
            guard !invitations.isEmpty, invitations.count <= RoomsController.maximumInvitations else {
                throw WrongArgument(message: "invitations must hold 1 to \(RoomsController.maximumInvitations) entries.")
            }
            var members: [RoomMember] = []
            for (index, invitation) in invitations.enumerated() {
                guard let rawID = invitation["id"]?.stringValue, let rawAccess = invitation["access"]?.stringValue else {
                    throw WrongArgument(message: "invitations[\(index)] needs a string id and a string access.")
                }
                guard let access = RoomAccess(rawValue: rawAccess) else {
                    throw WrongArgument(message: "invitations[\(index)].access must be one of RoomAdmin, Editor, Viewer.")
                }
                guard let id = PersonID(validating: rawID), let person = try await people.find(id: id) else {
                    throw WrongArgument(message: "invitations[\(index)].id is not a person of this portal.")
                }
                members.append(RoomMember(personID: person.id, access: access))
            }
            try await files.share(room: room.id, with: members)
            return "Shared \(room.title) with \(members.count) \(members.count == 1 ? "person" : "people")."
        case "list_people":
            guard PeoplePolicy.mayList(me) else { throw AppError.forbidden("Guests see only their own profile.") }
            let filter = try arguments.string("filter", required: false)
            guard (filter ?? "").count <= 256 else { throw WrongArgument(message: "list_people: filter must be at most 256 characters.") }
            let page = try await directory.list(text: filter, offset: 0, limit: 100)
            return try Self.json(page.people.map(PeopleController.Profile.init))
        default:
            throw WrongArgument(message: "Unknown tool \(name).")
        }
    }

    /// The arguments against the tool's input schema (types, required, nothing else), before any of
    /// them is used: a wrong one is named in the tool error and nothing runs.
    static func check(_ arguments: [String: Value], against tool: Tool) throws {
        guard case .object(let schema) = tool.inputSchema, case .object(let properties)? = schema["properties"] else { return }
        let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for name in required where arguments[name] == nil || arguments[name] == .null {
            throw WrongArgument(message: "\(tool.name): the argument \(name) is required.")
        }
        for (name, value) in arguments {
            guard case .object(let property)? = properties[name], let type = property["type"]?.stringValue else {
                throw WrongArgument(message: "\(tool.name): there is no argument \(name).")
            }
            let fits: Bool = switch (type, value) {
            case ("integer", .int): true
            case ("integer", .double(let number)): number == number.rounded() && abs(number) < 9e15
            case ("string", .string), ("array", .array), (_, .null): true
            default: false
            }
            guard fits else { throw WrongArgument(message: "\(tool.name): the argument \(name) must be \(type == "string" ? "a string" : "an \(type)").") }
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A call's arguments, read by their schema's types.
    struct Arguments {
        let values: [String: Value]
        let tool: String

        func integer(_ name: String, required: Bool = true) throws -> Int64? {
            switch values[name] {
            case nil, .null?:
                if required { throw WrongArgument(message: "\(tool): the argument \(name) is required (an integer).") }
                return nil
            case .int(let value)?: return Int64(value)
            case .double(let value)? where value == value.rounded() && abs(value) < 9e15: return Int64(value)
            default: throw WrongArgument(message: "\(tool): the argument \(name) must be an integer.")
            }
        }

        func string(_ name: String, required: Bool = true) throws -> String? {
            switch values[name] {
            case nil, .null?:
                if required { throw WrongArgument(message: "\(tool): the argument \(name) is required (a string).") }
                return nil
            case .string(let value)?: return value
            default: throw WrongArgument(message: "\(tool): the argument \(name) must be a string.")
            }
        }

        func objects(_ name: String) throws -> [[String: Value]] {
            guard case .array(let items)? = values[name] else { throw WrongArgument(message: "\(tool): the argument \(name) must be an array.") }
            return try items.enumerated().map { index, item in
                guard case .object(let object) = item else { throw WrongArgument(message: "\(tool): \(name)[\(index)] must be an object.") }
                return object
            }
        }
    }
}
