import CSQLite
import Dispatch
import Foundation
import Logging
@testable import Storage
import Testing

/// Opening the SQLite file while another process holds its lock, as when several processes start on
/// one new file at once (CI saw "database is locked" at open in the three-starts test).
@Suite(.timeLimit(.minutes(1))) struct SQLiteOpeningTests {
    /// A lock held longer than one busy wait (5 s) is waited out: the open tries again instead of
    /// refusing to start. The other connection is plain SQLite released from a thread of its own, as
    /// another process would, so that a busy test run cannot keep it from letting go.
    @Test func anOpenWaitsForALockHeldLongerThanOneBusyWait() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-open-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/gatehouse.sqlite"
        var handle: OpaquePointer?
        #expect(sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK)
        #expect(sqlite3_exec(handle, "BEGIN EXCLUSIVE", nil, nil, nil) == SQLITE_OK)
        let other = UncheckedHandle(pointer: handle)
        let released = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 5.6)
            sqlite3_exec(other.pointer, "COMMIT", nil, nil, nil)
            sqlite3_close(other.pointer)
            released.signal()
        }
        let started = ContinuousClock.now
        let store = try await SQLiteDatabaseStore.open(path: path, readerCount: 1, logger: Logger(label: "test"))
        #expect(ContinuousClock.now - started > .seconds(5), "the lock was held while the file was opened")
        released.wait()
        try await store.write { try await $0.raw("CREATE TABLE opened (k INTEGER)").run() }
        await store.close()
    }

    struct UncheckedHandle: @unchecked Sendable {
        let pointer: OpaquePointer?
    }
}
