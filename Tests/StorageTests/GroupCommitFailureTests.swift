import Dispatch
import Foundation
import GatehouseTestSupport
import SQLKit
@testable import Storage
import Synchronization
import Testing

/// What each write of an SQLite commit group is told, against what the file holds afterwards, when
/// SQLite rolls the group's transaction back under one of them (SQLITE_FULL, SQLITE_INTERRUPT), when
/// both `COMMIT` and `ROLLBACK` fail, and when the store closes while a group is open. "Done" must
/// mean in the file, "failed" must mean not in it, and the next write must work.
@Suite(.timeLimit(.minutes(2))) struct GroupCommitFailureTests {
    final class Flag: Sendable {
        let value = Atomic(false)
    }

    struct Told: Sendable {
        let key: String
        let error: (any Error)?
    }

    /// Runs `count` writes at once, each inserting its key and pausing inside its transaction so that
    /// the others queue and join its group; the write `failing` also runs `fail` after its insert.
    static func writeAtOnce(_ database: any Database, count: Int = 24, failing: Int? = nil,
                            fail: @escaping @Sendable (any SQLDatabase) async throws -> Void = { _ in }) async -> [Told] {
        await withTaskGroup(of: Told.self) { group in
            for index in 0..<count {
                group.addTask {
                    let key = "k\(index)"
                    do {
                        try await database.write { sql in
                            try await sql.raw("INSERT INTO group_rows (k) VALUES (\(bind: key))").run()
                            if index == failing { try await fail(sql) }
                            usleep(500)  // holds the writer on its thread: the others wait and join the group
                        }
                        return Told(key: key, error: nil)
                    } catch {
                        return Told(key: key, error: error)
                    }
                }
            }
            var told: [Told] = []
            for await one in group { told.append(one) }
            return told
        }
    }

    static func keys(in database: any Database) async throws -> Set<String> {
        Set(try await database.read { sql in try await sql.raw("SELECT k FROM group_rows").all().map { try $0.decode(column: "k", as: String.self) } })
    }

    /// Every write told "done" is in the file and every write told "failed" is not; the next write works.
    static func expectToldMatchesTheFile(_ told: [Told], _ database: any Database) async throws {
        let stored = try await keys(in: database)
        for one in told {
            if one.error == nil {
                #expect(stored.contains(one.key), "\(one.key) was told done but is not in the file")
            } else {
                #expect(!stored.contains(one.key), "\(one.key) was told it failed (\(String(describing: one.error!))) but is in the file")
            }
        }
        try await database.write { try await $0.raw("INSERT INTO group_rows (k) VALUES ('after')").run() }
        #expect(try await keys(in: database).contains("after"), "the writer works after the failure")
    }

    /// Caps the file at two pages more than it has (`PRAGMA max_page_count`): a megabyte more is SQLITE_FULL.
    /// A later write resets it with `PRAGMA max_page_count = 1073741823`.
    static func letTheFileGrowByTwoPages(_ sql: any SQLDatabase) async throws {
        let pages = try await sql.raw("PRAGMA page_count").first()?.decode(column: "page_count", as: Int.self) ?? 0
        _ = try await sql.raw("PRAGMA max_page_count = \(unsafeRaw: String(pages + 2))").all()
    }

    static let megabyte = Data(repeating: 7, count: 1_000_000)

    static func withRowsTable(_ body: (SQLiteDatabaseStore, any Database) async throws -> Void) async throws {
        try await withScratchDatabase(.sqlite) { database, _ in
            let store = try #require(database as? SQLiteDatabaseStore)
            try await database.write { sql in
                try await sql.raw("CREATE TABLE group_rows (k TEXT PRIMARY KEY)").run()
                try await sql.raw("CREATE TABLE big_rows (x INTEGER)").run()
            }
            try await body(store, database)
        }
    }

    @Test func anInterruptedWriteFailsItsWholeGroupAndOnlyThat() async throws {
        try await Self.withRowsTable { store, database in
            let told = await Self.writeAtOnce(database, failing: 5) { sql in
                // sqlite3_interrupt from another thread, repeated until the long statement has stopped.
                let done = Flag()
                Thread.detachNewThread {
                    while true {
                        usleep(10_000)
                        if done.value.load(ordering: .acquiring) { return }
                        store.interruptWrites()
                    }
                }
                defer { done.value.store(true, ordering: .releasing) }
                try await sql.raw("""
                    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000)
                    INSERT INTO big_rows SELECT x FROM c
                    """).run()
                Issue.record("the long statement was not interrupted")
            }
            let failed = try #require(told.first { $0.key == "k5" }?.error as? SQLiteFailure)
            #expect(failed.code & 0xff == 9, "SQLite's own error, SQLITE_INTERRUPT, not a failed ROLLBACK TO: \(failed)")
            #expect(try await database.read { try await $0.raw("SELECT count(*) AS n FROM big_rows").first()?.decode(column: "n", as: Int.self) } == 0)
            try await Self.expectToldMatchesTheFile(told, database)
        }
    }

    @Test func aFullDatabaseFailsTheWriteThatFilledItAndTellsEveryoneTheTruth() async throws {
        try await Self.withRowsTable { _, database in
            let told = await Self.writeAtOnce(database, failing: 7) { sql in
                try await Self.letTheFileGrowByTwoPages(sql)
                try await sql.raw("INSERT INTO big_rows (x) VALUES (\(bind: Self.megabyte))").run()
                Issue.record("the database did not fill")
            }
            let failed = try #require(told.first { $0.key == "k7" }?.error as? SQLiteFailure)
            #expect(failed.code & 0xff == 13, "SQLITE_FULL, not a failed ROLLBACK TO: \(failed)")
            try await database.write { _ = try await $0.raw("PRAGMA max_page_count = 1073741823").all() }
            try await Self.expectToldMatchesTheFile(told, database)
        }
    }

    /// A body that catches the error of a statement SQLite rolled the transaction back for, and goes
    /// on, runs nothing more: no statement of it commits on its own in autocommit mode.
    @Test func aBodyThatSwallowsARollbackRunsNothingMore() async throws {
        try await Self.withRowsTable { _, database in
            let told = await Self.writeAtOnce(database, failing: 3) { sql in
                try await Self.letTheFileGrowByTwoPages(sql)
                _ = try? await sql.raw("INSERT INTO big_rows (x) VALUES (\(bind: Self.megabyte))").run()
                do {
                    try await sql.raw("INSERT INTO group_rows (k) VALUES ('after-the-rollback')").run()
                    Issue.record("a statement ran outside the transaction")
                } catch let refused as SQLiteFailure {
                    #expect(refused.code == 4, "SQLITE_ABORT: \(refused)")
                }
            }
            #expect(told.first { $0.key == "k3" }?.error != nil, "the write whose transaction was rolled back is told so")
            try await database.write { _ = try await $0.raw("PRAGMA max_page_count = 1073741823").all() }
            #expect(try await !Self.keys(in: database).contains("after-the-rollback"))
            try await Self.expectToldMatchesTheFile(told, database)
        }
    }

    #if DEBUG
    @Test func aCommitAndARollbackThatBothFailLeaveAWriterThatWorks() async throws {
        try await Self.withRowsTable { store, database in
            store.injectWriterFailures(["COMMIT": 10, "ROLLBACK": 10])  // SQLITE_IOERR
            let told = await Self.writeAtOnce(database)
            store.injectWriterFailures([:])
            #expect(told.allSatisfy { $0.error != nil }, "no write can be told done when no COMMIT succeeded")
            try await Self.expectToldMatchesTheFile(told, database)
        }
    }

    /// When opening the writer again fails too (the disk is away), writes fail at once while it lasts
    /// and the writer is opened again at the first write after, with every pragma set.
    @Test func aWriterThatCannotBeOpenedAgainIsTriedAgainLater() async throws {
        try await Self.withRowsTable { store, database in
            store.injectWriterFailures(["COMMIT": 10, "ROLLBACK": 10, "PRAGMA foreign_keys = ON": 14])  // IOERR, CANTOPEN
            let told = await Self.writeAtOnce(database, count: 4)
            #expect(told.allSatisfy { $0.error != nil })
            await #expect(throws: StorageError.self) {
                try await database.write { try await $0.raw("INSERT INTO group_rows (k) VALUES ('while-away')").run() }
            }
            #expect(try await database.read { try await $0.raw("SELECT count(*) AS n FROM group_rows").first()?.decode(column: "n", as: Int.self) } == 0,
                    "reads go on, on the readers")
            store.injectWriterFailures([:])
            let foreignKeys = try await database.write { try await $0.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self) }
            #expect(foreignKeys == 1)
            try await Self.expectToldMatchesTheFile(told, database)
        }
    }
    #endif

    @Test func closingWhileAGroupIsOpenTellsEveryWriteAndHangsNone() async throws {
        let scratch = try await ScratchDatabase.make(.sqlite)
        do {
            let database = try await scratch.open(migrated: false)
            try await database.write { try await $0.raw("CREATE TABLE group_rows (k TEXT PRIMARY KEY)").run() }
            async let told = Self.writeAtOnce(database, count: 40)
            try await Task.sleep(for: .milliseconds(3))
            await database.close()
            let outcome = await told
            let reopened = try await scratch.open(migrated: false)
            try await Self.expectToldMatchesTheFile(outcome, reopened)
            await reopened.close()
        } catch {
            await scratch.remove()
            throw error
        }
        await scratch.remove()
    }

    /// Every connection syncs as the setting says: `full` by default, `normal` when relaxed.
    @Test(arguments: SQLiteSynchronous.allCases)
    func everyConnectionSyncsAsTheSettingSays(synchronous: SQLiteSynchronous) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-sync-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let database = synchronous == .full
            ? try await openDatabase(.sqlite(path: folder + "/gatehouse.sqlite"), logger: .init(label: "test"))
            : try await openDatabase(.sqlite(path: folder + "/gatehouse.sqlite"), sqlite: SQLiteOptions(synchronous: synchronous), logger: .init(label: "test"))
        let seen = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    try await database.read { sql in
                        let value = try await sql.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self) ?? -1
                        try await Task.sleep(for: .milliseconds(20))  // holds this connection: the others are used too
                        return value
                    }
                }
            }
            var seen: Set<Int> = []
            for try await value in group { seen.insert(value) }
            return seen
        }
        let written = try await database.write { try await $0.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self) }
        await database.close()
        #expect(seen == [synchronous == .full ? 2 : 1])
        #expect(written == (synchronous == .full ? 2 : 1))
    }
}
