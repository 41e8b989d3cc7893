import Foundation
import GatehouseTestSupport
import OAuthCore
import PortalCore
import Storage
import Testing

/// The authorization store's four ports (codes, refresh tokens, grants with the revocation feed,
/// consents), on SQLite and on PostgreSQL: each single-use step wins once, even when raced.
@Suite struct AuthorizationStoreContractTests {
    static let now = Date(unixSeconds: 1_800_000_000)

    /// A person and an app for the rows to belong to.
    static func setUp(_ database: any Database) async throws -> (SQLAuthorizationStore, Person, RegisteredClient) {
        let person = makePerson("ann-\(UUID().uuidString.prefix(6))@example.com")
        try await SQLPersonStore(database: database).create(person, passwordHash: "h")
        let (client, icon) = makeClient(createdBy: person.id.rawValue)
        try await SQLClientStore(database: database).create(client, logo: icon, limits: roomyLimits)
        return (SQLAuthorizationStore(database: database), person, client)
    }

    static func code(_ client: RegisteredClient, _ person: Person, expiresIn: TimeInterval = 60) -> IssuedCode {
        IssuedCode(
            codeHash: OpaqueToken.hash(OpaqueToken.generate()), grantID: .generate(), clientID: client.clientID,
            personID: SubjectID(rawValue: person.id.rawValue), redirectURI: "https://a.example/cb", redirectURIWasGiven: true, scopes: ["files:read", "openid"],
            nonce: "n", codeChallenge: String(repeating: "c", count: 43), authTime: now, createdAt: now,
            expiresAt: now.addingTimeInterval(expiresIn)
        )
    }

    static func refresh(for code: IssuedCode, at instant: Date = now) -> StoredRefreshToken {
        StoredRefreshToken(
            tokenHash: OpaqueToken.hash(OpaqueToken.generate()), grantID: code.grantID, clientID: code.clientID, personID: code.personID,
            scopes: code.scopes, authTime: code.authTime, createdAt: instant, expiresAt: instant.addingTimeInterval(3600)
        )
    }

    /// An issued code, redeemed for its first refresh token.
    static func redeemed(_ database: any Database) async throws
        -> (SQLAuthorizationStore, Person, RegisteredClient, IssuedCode, StoredRefreshToken)
    {
        let (store, person, client) = try await setUp(database)
        let code = code(client, person)
        try await store.issue(code)
        let first = refresh(for: code)
        #expect(try await store.redeem(codeHash: code.codeHash, at: now, firstRefreshToken: first))
        return (store, person, client, code, first)
    }

    /// How many of `count` concurrent attempts succeeded.
    static func winners(_ count: Int, _ attempt: @escaping @Sendable () async throws -> Bool) async throws -> Int {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<count { group.addTask { try await attempt() } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func aCodeIsRedeemedOnceEvenWhenRaced(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let (store, person, client) = try await Self.setUp(database)
            let code = Self.code(client, person)
            try await store.issue(code)
            #expect(try await store.find(codeHash: code.codeHash) == code)
            #expect(try await store.isActive(grantID: code.grantID))
            let wins = try await Self.winners(8) { try await store.redeem(codeHash: code.codeHash, at: Self.now, firstRefreshToken: Self.refresh(for: code)) }
            #expect(wins == 1)
            #expect(try await store.find(codeHash: code.codeHash)?.consumedAt == Self.now)
            #expect(try await store.find(codeHash: "unknown") == nil)
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func aRevokedGrantRedeemsAndRotatesNothing(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let (store, person, client, code, first) = try await Self.redeemed(database)
            try await store.revoke(grantID: code.grantID, at: Self.now, feedExpiry: Self.now.addingTimeInterval(3600))
            #expect(try await !store.isActive(grantID: code.grantID))
            #expect(try await !store.rotate(tokenHash: first.tokenHash, at: Self.now, successor: Self.refresh(for: code)))
            let other = Self.code(client, person)
            try await store.issue(other)
            try await store.revoke(grantID: other.grantID, at: Self.now, feedExpiry: Self.now.addingTimeInterval(3600))
            #expect(try await !store.redeem(codeHash: other.codeHash, at: Self.now, firstRefreshToken: Self.refresh(for: other)))
            let feed = try await store.revocations(after: 0, now: Self.now).map(\.revocation)
            #expect(feed == [.grant(id: code.grantID), .grant(id: other.grantID)])
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func aRefreshTokenRotatesOnceEvenWhenRaced(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let (store, _, _, code, first) = try await Self.redeemed(database)
            #expect(try await store.find(tokenHash: first.tokenHash) == first)
            let wins = try await Self.winners(8) { try await store.rotate(tokenHash: first.tokenHash, at: Self.now, successor: Self.refresh(for: code)) }
            #expect(wins == 1)
            #expect(try await store.find(tokenHash: first.tokenHash)?.rotatedAt == Self.now)
            // An expired token does not rotate.
            var late = Self.refresh(for: code)
            late.expiresAt = Self.now.addingTimeInterval(-1)
            let successor = Self.refresh(for: code)
            #expect(try await store.rotate(tokenHash: successor.tokenHash, at: Self.now, successor: late) == false)
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func theFeedKeepsEveryKindInOrderUntilItExpires(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let (store, person, client) = try await Self.setUp(database)
            let entries: [Revocation] = [
                .token(jti: "j"), .grant(id: GrantID(rawValue: "g")), .client(client.clientID), .consent(client.clientID, personID: SubjectID(rawValue: person.id.rawValue)),
                .person(id: SubjectID(rawValue: person.id.rawValue)), .clientChanged(client.clientID),
            ]
            for entry in entries { try await store.record(entry, at: Self.now, feedExpiry: Self.now.addingTimeInterval(60)) }
            try await store.record(.token(jti: "gone"), at: Self.now, feedExpiry: Self.now.addingTimeInterval(-1))
            let feed = try await store.revocations(after: 0, now: Self.now)
            #expect(feed.map(\.revocation) == entries)
            #expect(feed.map(\.createdAtMilliseconds).allSatisfy { $0 == Self.now.milliseconds })
            #expect(try await store.revocations(after: feed[2].id, now: Self.now).map(\.revocation) == Array(entries[3...]))
            #expect(try await store.revocations(after: 0, now: Self.now.addingTimeInterval(61)).isEmpty)
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func consentsMergeListAndWithdrawWithTheirGrants(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let (store, person, client) = try await Self.setUp(database)
            #expect(try await store.find(personID: SubjectID(rawValue: person.id.rawValue), clientID: client.clientID) == nil)
            try await store.allow(personID: SubjectID(rawValue: person.id.rawValue), clientID: client.clientID, scopes: ["openid"], at: Self.now)
            try await store.allow(personID: SubjectID(rawValue: person.id.rawValue), clientID: client.clientID, scopes: ["files:read"], at: Self.now.addingTimeInterval(5))
            let consent = try #require(try await store.find(personID: SubjectID(rawValue: person.id.rawValue), clientID: client.clientID))
            #expect(Set(consent.scopes) == ["openid", "files:read"])
            #expect(try await store.list(personID: SubjectID(rawValue: person.id.rawValue)).map(\.clientID) == [client.clientID])
            let code = Self.code(client, person)
            try await store.issue(code)
            #expect(try await store.withdraw(personID: SubjectID(rawValue: person.id.rawValue), clientID: client.clientID, at: Self.now, feedExpiry: Self.now.addingTimeInterval(60)))
            #expect(try await store.find(personID: SubjectID(rawValue: person.id.rawValue), clientID: client.clientID) == nil)
            #expect(try await !store.isActive(grantID: code.grantID))
            #expect(try await store.revocations(after: 0, now: Self.now).map(\.revocation).contains(.consent(client.clientID, personID: SubjectID(rawValue: person.id.rawValue))))
            #expect(try await !store.withdraw(personID: SubjectID(rawValue: person.id.rawValue), clientID: client.clientID, at: Self.now, feedExpiry: Self.now))
        }
    }
}

/// Folders, files and rooms: each change one transaction, blobs shared by equal contents and gone
/// with their last file, rooms seen only by members.
@Suite struct FileStoreContractTests {
    static let now = Date(unixSeconds: 1_800_000_000)

    @Test(arguments: TestDatabaseKind.available)
    func foldersAndFilesLiveAndDieTogether(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let people = SQLPersonStore(database: database)
            let files = SQLFileStore(database: database)
            let ann = makePerson("ann@example.com")
            try await people.create(ann, passwordHash: "h")
            let my = try await files.myDocuments(of: ann.id, now: Self.now)
            #expect(try await files.myDocuments(of: ann.id, now: Self.now).id == my.id, "made once")
            let folder = try await files.createFolder(parent: my, title: "Reports", by: ann.id, now: Self.now)
            let inner = try await files.createFolder(parent: folder, title: "2026", by: ann.id, now: Self.now)
            let bytes = Data("same bytes".utf8)
            let sha = String(repeating: "5a", count: 32)
            let first = try await files.addFile(to: folder, title: "a.txt", contentType: "text/plain", bytes: bytes, sha256: sha, by: ann.id, now: Self.now)
            let second = try await files.addFile(to: inner, title: "b.txt", contentType: "text/plain", bytes: bytes, sha256: sha, by: ann.id, now: Self.now)
            #expect(try await files.file(first.id) == first)
            #expect(try await files.content(sha256: sha) == bytes)
            let listed = try await files.contents(of: folder.id)
            #expect(listed.folders.map(\.title) == ["2026"] && listed.files.map(\.title) == ["a.txt"])
            #expect(try await files.renameFile(first.id, title: "c.txt", now: Self.now))
            #expect(try await files.file(first.id)?.title == "c.txt")
            #expect(try await !files.moveFolder(folder.id, to: inner.id, now: Self.now), "never into itself")
            #expect(try await files.deleteFile(first.id))
            #expect(try await files.content(sha256: sha) == bytes, "the other file still uses the blob")
            #expect(try await files.deleteFolder(folder.id))
            #expect(try await files.file(second.id) == nil)
            #expect(try await files.folder(inner.id) == nil)
            #expect(try await files.content(sha256: sha) == nil, "the last file took its blob along")
            #expect(try await !files.deleteFile(second.id))
            #expect(try await !files.renameFolder(folder.id, title: "x", now: Self.now))
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func roomsAreSeenByTheirMembers(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let people = SQLPersonStore(database: database)
            let files = SQLFileStore(database: database)
            let ann = makePerson("ann@example.com"), bob = makePerson("bob@example.com")
            try await people.create(ann, passwordHash: "h")
            try await people.create(bob, passwordHash: "h")
            let room = try await files.createRoom(title: "Plans", type: .collaboration, by: ann.id, now: Self.now)
            #expect(room.isRoom && room.roomType == .collaboration)
            #expect(try await files.membership(room: room.id, personID: ann.id) == .roomAdmin)
            #expect(try await files.membership(room: room.id, personID: bob.id) == nil)
            #expect(try await files.rooms(visibleTo: bob.id, all: false).isEmpty)
            #expect(try await files.rooms(visibleTo: bob.id, all: true).map(\.id) == [room.id])
            try await files.share(room: room.id, with: [RoomMember(personID: bob.id, access: .viewer)])
            #expect(try await files.rooms(visibleTo: bob.id, all: false).map(\.id) == [room.id])
            #expect(Set(try await files.members(room: room.id).map(\.personID)) == [ann.id, bob.id])
            #expect(try await files.setRoomType(room.id, .public, now: Self.now))
            #expect(try await files.folder(room.id)?.roomType == .public)
            #expect(try await files.deleteFolder(room.id))
            #expect(try await files.rooms(visibleTo: ann.id, all: true).isEmpty)
        }
    }
}
