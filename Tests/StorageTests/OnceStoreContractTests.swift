import Foundation
import GatehouseTestSupport
import PortalCore
@testable import Storage
import Testing

/// `OnceStore` on both databases: a kept view is taken once, by its owner, before it expires; a form
/// token is claimed once per owner, tells a second submission what the first made, and can be given back.
@Suite struct OnceStoreContractTests {
    @Test(arguments: TestDatabaseKind.available)
    func viewsAreTakenOnceAndFormsActOnce(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let store = SQLOnceStore(database: database)
            let now = Date(unixSeconds: 1_800_000_000)
            let sealed = Data([1, 2, 3, 0, 255])
            try await store.keep(id: "v1", owner: "alice", sealed: sealed, until: now.addingTimeInterval(300))
            #expect(try await store.take(id: "v1", owner: "bob", now: now) == nil, "another session's")
            #expect(try await store.take(id: "v1", owner: "alice", now: now) == sealed)
            #expect(try await store.take(id: "v1", owner: "alice", now: now) == nil, "once")
            try await store.keep(id: "v2", owner: "alice", sealed: sealed, until: now.addingTimeInterval(300))
            #expect(try await store.take(id: "v2", owner: "alice", now: now.addingTimeInterval(301)) == nil, "gone after its time")

            #expect(try await store.claim(formToken: "f1", owner: "alice", until: now.addingTimeInterval(300)) == nil, "first submission")
            #expect(try await store.claim(formToken: "f1", owner: "alice", until: now.addingTimeInterval(300)) == "", "second, while the first runs")
            try await store.record(formToken: "f1", result: "app-1")
            #expect(try await store.claim(formToken: "f1", owner: "alice", until: now.addingTimeInterval(300)) == "app-1")
            #expect(try await store.claim(formToken: "f1", owner: "bob", until: now.addingTimeInterval(300)) == "", "not bob's to use")
            #expect(try await store.claim(formToken: "f2", owner: "alice", until: now.addingTimeInterval(300)) == nil)
            try await store.release(formToken: "f2")
            #expect(try await store.claim(formToken: "f2", owner: "alice", until: now.addingTimeInterval(300)) == nil, "given back")
        }
    }
}
