import Foundation
import Logging
import NIOPosix
@testable import Storage
import Testing

/// Opening the SQLite file while another process holds its lock, as when several processes start on
/// one new file at once (CI saw "database is locked" at open in the three-starts test).
@Suite(.timeLimit(.minutes(1))) struct SQLiteOpeningTests {
    /// A lock held longer than one busy wait (5 s) is waited out: the open tries again instead of
    /// refusing to start.
    @Test func anOpenWaitsForALockHeldLongerThanOneBusyWait() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-open-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/gatehouse.sqlite"
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let other = try await SQLiteSession.open(path: path, threadPool: threadPool)
        try await other.execute("BEGIN EXCLUSIVE", []) { _ in }
        let release = Task {
            try await Task.sleep(for: .milliseconds(5_600))
            try await other.execute("COMMIT", []) { _ in }
        }
        let started = ContinuousClock.now
        let store = try await SQLiteDatabaseStore.open(path: path, readerCount: 1, logger: Logger(label: "test"))
        #expect(ContinuousClock.now - started > .seconds(5), "the lock was held while the file was opened")
        try await release.value
        try await store.write { try await $0.raw("CREATE TABLE opened (k INTEGER)").run() }
        await store.close()
        await other.close()
        try await threadPool.shutdownGracefully()
    }
}
