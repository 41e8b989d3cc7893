import Foundation
import GatehouseTestSupport
import SQLKit
import Storage
import Testing

/// `Database.write` is one transaction per call, whatever runs beside it: on SQLite, concurrent
/// writes are committed in groups, each in a savepoint of its own.
@Suite struct TransactionTests {
    struct Refused: Error {}

    @Test(arguments: TestDatabaseKind.available)
    func concurrentWritesLandOrLeaveNothingAndAreCommittedOnReturn(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            try await database.write { try await $0.raw("CREATE TABLE scratch_rows (k TEXT PRIMARY KEY, n BIGINT NOT NULL)").run() }
            let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for index in 0..<60 {
                    group.addTask {
                        // Every third write throws after its insert; every tenth inserts a key another one holds.
                        let key = index % 10 == 9 ? "shared" : "k\(index)"
                        do {
                            try await database.write { sql in
                                try await sql.raw("INSERT INTO scratch_rows (k, n) VALUES (\(bind: key), \(bind: index))").run()
                                try await sql.raw("UPDATE scratch_rows SET n = n + 1000 WHERE k = \(bind: key)").run()
                                if index % 3 == 0 { throw Refused() }
                            }
                        } catch {
                            return (key, false)
                        }
                        // Returned means committed: another connection sees it at once.
                        let seen = try await database.read { sql in
                            try await sql.raw("SELECT n FROM scratch_rows WHERE k = \(bind: key)").first()?.decode(column: "n", as: Int.self)
                        }
                        #expect(seen.map { $0 >= 1000 } == true)
                        return (key, true)
                    }
                }
                var outcomes: [(String, Bool)] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let landed = Set(outcomes.filter(\.1).map(\.0))
            let rows = try await database.read { sql in
                try await sql.raw("SELECT k, n FROM scratch_rows").all().map {
                    (try $0.decode(column: "k", as: String.self), try $0.decode(column: "n", as: Int.self))
                }
            }
            #expect(Set(rows.map(\.0)) == landed)
            #expect(rows.count == landed.count)
            // Each landed row has its own insert and update, nothing of the refused ones.
            let indices: [Int] = rows.map { $0.1 - 1000 }
            #expect(indices.allSatisfy { (0..<60).contains($0) && !$0.isMultiple(of: 3) })
            // The shared key landed once at most (six writes tried it; those with index % 3 == 0 refused themselves).
            #expect(outcomes.filter { $0.0 == "shared" && $0.1 }.count <= 1)
            #expect(landed.contains("shared"))
            // 60 writes: 20 refuse themselves; 54 own keys of which 18 refuse, and one of the 4 others on the shared key.
            let expected = 36 + 1
            #expect(landed.count == expected)
        }
    }
}
