import Foundation
import GatehouseTestSupport
import SQLKit
import Storage
import Testing

/// On SQLite a connection keeps its read transaction open between reads while nothing is committed
/// (`SQLiteSession.reading`): no read may ever see less than a fresh transaction would, and the kept
/// transactions may not hold up checkpoints.
@Suite struct KeptSnapshotTests {
    /// Reads `n` of row `k` many times at once, each read holding its connection a little while (so
    /// that every connection of the pool, writer and readers, reads and keeps its snapshot), and once
    /// more alone; answers each value seen.
    static func readEverywhere(_ database: any Database) async throws -> Set<Int> {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    try await database.read { sql in
                        let n = try await sql.raw("SELECT n FROM kept_rows WHERE k = 'k'").first()?.decode(column: "n", as: Int.self) ?? -1
                        try await Task.sleep(for: .milliseconds(20))
                        return n
                    }
                }
            }
            var seen: Set<Int> = []
            for try await value in group { seen.insert(value) }
            seen.insert(try await database.read { sql in
                try await sql.raw("SELECT n FROM kept_rows WHERE k = 'k'").first()?.decode(column: "n", as: Int.self) ?? -1
            })
            return seen
        }
    }

    /// Runs a Python script on the database file in a process of its own, as another program would.
    static func python(_ script: String, file: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1], isolation_level=None)\n" + script, file]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func path(_ scratch: ScratchDatabase) -> String {
        guard case .sqlite(let path) = scratch.location else { return "" }
        return path
    }

    @Test func everyReadSeesWhatWasCommittedBeforeItHereOrInAnotherProcess() async throws {
        try await withScratchDatabase(.sqlite) { database, scratch in
            try await database.write { sql in
                try await sql.raw("CREATE TABLE kept_rows (k TEXT PRIMARY KEY, n BIGINT NOT NULL)").run()
                try await sql.raw("INSERT INTO kept_rows (k, n) VALUES ('k', 0)").run()
            }
            #expect(try await Self.readEverywhere(database) == [0])
            #expect(try await Self.readEverywhere(database) == [0])

            try await database.write { try await $0.raw("UPDATE kept_rows SET n = 1 WHERE k = 'k'").run() }
            #expect(try await Self.readEverywhere(database) == [1])

            // Another process commits: the next reads here see it, though this process committed nothing.
            _ = try Self.python("db.execute(\"UPDATE kept_rows SET n = 2 WHERE k = 'k'\")", file: Self.path(scratch))
            #expect(try await Self.readEverywhere(database) == [2])
            _ = try Self.python("db.execute(\"UPDATE kept_rows SET n = 3 WHERE k = 'k'\")", file: Self.path(scratch))
            #expect(try await Self.readEverywhere(database) == [3])
        }
    }

    @Test func keptSnapshotsDoNotHoldUpTheCheckpoint() async throws {
        try await withScratchDatabase(.sqlite) { database, scratch in
            try await database.write { sql in
                try await sql.raw("CREATE TABLE kept_rows (k TEXT PRIMARY KEY, n BIGINT NOT NULL)").run()
                try await sql.raw("INSERT INTO kept_rows (k, n) VALUES ('k', 0)").run()
            }
            _ = try await Self.readEverywhere(database)
            // Commits after the snapshots were kept: the idle connections' snapshots are now behind
            // the log, and would keep a checkpoint from copying it back were they still open.
            for value in 1...50 {
                try await database.write { try await $0.raw("UPDATE kept_rows SET n = \(bind: value) WHERE k = 'k'").run() }
            }
            try await Task.sleep(for: .milliseconds(2500))
            // (busy, frames in the log, frames checkpointed): everything was copied back.
            let result = try Self.python("print(*db.execute('PRAGMA wal_checkpoint(PASSIVE)').fetchone())", file: Self.path(scratch))
            let numbers = result.split(separator: " ").compactMap { Int($0) }
            #expect(numbers.count == 3)
            #expect(numbers.count == 3 && numbers[1] > 0 && numbers[1] == numbers[2], "checkpoint: \(result)")
            #expect(try await Self.readEverywhere(database) == [50])
        }
    }

    @Test func aReadThatWritesIsRefusedAndWritesNothing() async throws {
        try await withScratchDatabase(.sqlite) { database, _ in
            try await database.write { try await $0.raw("CREATE TABLE kept_rows (k TEXT PRIMARY KEY, n BIGINT NOT NULL)").run() }
            for index in 0..<3 {
                await #expect(throws: (any Error).self) {
                    try await database.read { sql in
                        try await sql.raw("INSERT INTO kept_rows (k, n) VALUES (\(bind: "r\(index)"), 1)").run()
                    }
                }
            }
            // Writes still write, and reads still read, on the same connections.
            try await database.write { try await $0.raw("INSERT INTO kept_rows (k, n) VALUES ('k', 7)").run() }
            #expect(try await Self.readEverywhere(database) == [7])
            let count = try await database.read { try await $0.raw("SELECT COUNT(*) AS c FROM kept_rows").first()?.decode(column: "c", as: Int.self) }
            #expect(count == 1)
        }
    }
}
