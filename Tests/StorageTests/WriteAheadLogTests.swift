import Foundation
import Logging
import SQLKit
@testable import Storage
import Testing

/// Issue 19: the write-ahead log gives the disk back. After a burst of writes it is cut back once it
/// has grown past `GATEHOUSE_WAL_LIMIT_BYTES` and the writer is idle, with what was written intact.
@Suite(.timeLimit(.minutes(1))) struct WriteAheadLogTests {
    @Test func theLogIsCutBackAfterABurstOfWrites() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-wal-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/gatehouse.sqlite"
        let store = try await SQLiteDatabaseStore.open(path: path, readerCount: 2, options: SQLiteOptions(walLimitBytes: 1 << 20),
                                                       logger: Logger(label: "test"))
        func logSize() -> Int { ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0 }
        try await store.write { try await $0.raw("CREATE TABLE blobs (k INTEGER PRIMARY KEY, v BLOB)").run() }
        let megabyte = Data(repeating: 9, count: 1 << 20)
        for key in 0..<8 {
            try await store.write { try await $0.raw("INSERT INTO blobs (k, v) VALUES (\(bind: key), \(bind: megabyte))").run() }
        }
        #expect(logSize() > 4 << 20, "the burst went through the log")
        let deadline = ContinuousClock.now + .seconds(10)
        while logSize() > 1 << 20, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(logSize() <= 1 << 20, "the log is \(logSize()) bytes 10 s after the burst, over its 1 MiB limit")
        let count = try await store.read { try await $0.raw("SELECT count(*) AS n FROM blobs").first()?.decode(column: "n", as: Int.self) }
        #expect(count == 8)
        try await store.write { try await $0.raw("INSERT INTO blobs (k, v) VALUES (100, x'00')").run() }
        await store.close()
    }
}
