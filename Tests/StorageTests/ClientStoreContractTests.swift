import Foundation
import GatehouseTestSupport
import OAuthCore
import Storage
import Testing

func makeClient(createdBy: String, at seconds: Int64 = 1_800_000_000, name: String = "Docs Sync") -> (RegisteredClient, Icon) {
    let icon = Icon(trusted: TestImages.png(width: 32, height: 32), format: .png)
    let at = Date(unixSeconds: seconds)
    let client = RegisteredClient(
        clientID: .generate(),
        settings: ClientSettings(
            name: name, description: "d", websiteURL: "https://a.example", allowPKCE: true, redirectURIs: ["https://a.example/cb"],
            allowedOrigins: ["https://a.example"], scopes: ["files:read", "openid"], policyURL: "https://a.example/p",
            termsURL: "https://a.example/t", logoutRedirectURI: nil
        ),
        logoFormat: .png, logoVersion: RegisteredClient.version(of: icon), enabled: true, secretHash: OpaqueToken.hash("s"),
        createdOn: at, createdBy: createdBy, modifiedOn: at, modifiedBy: createdBy
    )
    return (client, icon)
}

let roomyLimits = ClientLimits(perPortal: 100, perPerson: 10)

@Suite struct ClientStoreContractTests {
    @Test(arguments: TestDatabaseKind.available)
    func storesAppsWithTheirIconsAndAudit(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLClientStore(database: database)
            let (client, icon) = makeClient(createdBy: "p1")
            try await store.create(client, logo: icon, limits: roomyLimits)
            #expect(try await store.find(client.clientID) == client)
            #expect(try await store.logo(client.clientID) == icon)
            #expect(try await store.find(.generate()) == nil)

            var changed = client
            changed.name = "Docs Sync 2"
            changed.redirectURIs = ["https://a.example/cb", "com.example.app:/cb"]
            let stamp = ChangeStamp(actorID: "p2", at: Date(unixSeconds: 1_800_000_100))
            #expect(try await store.update(changed, logo: nil, stamp: stamp, changedFields: ["name", "redirect_uris"]))
            let reread = try #require(try await store.find(client.clientID))
            #expect(reread.name == "Docs Sync 2")
            #expect(reread.redirectURIs == changed.redirectURIs)
            #expect(reread.modifiedBy == "p2")

            #expect(try await store.replaceSecret(client.clientID, secretHash: OpaqueToken.hash("new"), stamp: stamp))
            #expect(try await store.find(client.clientID)?.secretMatches("new") == true)
            #expect(try await store.setEnabled(client.clientID, false, stamp: stamp))
            #expect(try await store.find(client.clientID)?.enabled == false)
            #expect(try await store.delete(client.clientID, stamp: stamp))
            #expect(try await store.find(client.clientID) == nil)
            #expect(try await store.delete(client.clientID, stamp: stamp) == false)

            let log = try await store.auditLog(ClientAuditFilter(clientID: client.clientID), limit: 10)
            #expect(log.map(\.action) == [.deleted, .disabled, .secretRegenerated, .updated, .created])
            #expect(log.first { $0.action == .updated }?.details == "name,redirect_uris")
            let byActor = try await store.auditLog(ClientAuditFilter(actorID: "p1"), limit: 10)
            #expect(byActor.map(\.action) == [.created])
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func limitsArePerPortalAndPerPersonAndWriteNothing(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLClientStore(database: database)
            let limits = ClientLimits(perPortal: 3, perPerson: 2)
            for _ in 0..<2 {
                let (client, icon) = makeClient(createdBy: "p1")
                try await store.create(client, logo: icon, limits: limits)
            }
            let (third, icon) = makeClient(createdBy: "p1")
            await #expect(throws: ClientLimitReached.person(2)) { try await store.create(third, logo: icon, limits: limits) }
            let (other, otherIcon) = makeClient(createdBy: "p2")
            try await store.create(other, logo: otherIcon, limits: limits)
            let (fourth, fourthIcon) = makeClient(createdBy: "p3")
            await #expect(throws: ClientLimitReached.portal(3)) { try await store.create(fourth, logo: fourthIcon, limits: limits) }
            #expect(try await store.list(createdBy: nil, after: nil, limit: 50).count == 3)
            #expect(try await store.auditLog(ClientAuditFilter(action: .created), limit: 50).count == 3)
        }
    }

    @Test(arguments: TestDatabaseKind.available)
    func listingIsKeysetPaginatedInCreationOrder(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLClientStore(database: database)
            var made: [RegisteredClient] = []
            for index in 0..<7 {
                // Two apps share each second, so the client id breaks ties.
                let (client, icon) = makeClient(createdBy: index % 2 == 0 ? "p1" : "p2", at: 1_800_000_000 + Int64(index / 2))
                try await store.create(client, logo: icon, limits: roomyLimits)
                made.append(client)
            }
            let expected = made.sorted { ($0.createdOn, $0.clientID.rawValue) < ($1.createdOn, $1.clientID.rawValue) }
            var seen: [RegisteredClient] = []
            var cursor: ClientPageCursor?
            while true {
                let page = try await store.list(createdBy: nil, after: cursor, limit: 3)
                seen += page
                guard page.count == 3, let last = page.last else { break }
                cursor = ClientPageCursor(createdOn: last.createdOn, clientID: last.clientID)
            }
            #expect(seen.map(\.clientID) == expected.map(\.clientID))
            let mine = try await store.list(createdBy: "p1", after: nil, limit: 50)
            #expect(mine.count == 4)
            #expect(mine.allSatisfy { $0.createdBy == "p1" })
        }
    }
}
