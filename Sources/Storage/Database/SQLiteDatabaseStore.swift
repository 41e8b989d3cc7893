import Foundation
import Logging
import SQLKit
import NIOPosix

/// SQLite in WAL mode: one writer connection (`BEGIN IMMEDIATE`) and a pool of readers.
///
/// Statements run on the calling task's thread (`SQLiteSession`); opening, closing, checkpoints and
/// statements binding large values use a small thread pool of the store's own.
final class SQLiteDatabaseStore: Database {
    let flavor = SQLFlavor.sqlite
    private let writer: ResourcePool<SQLiteSession>
    private let readers: ResourcePool<SQLiteSession>
    private let readerCount: Int
    private let threadPool: NIOThreadPool
    private let logger: Logger

    /// Copies the write-ahead log into the database file every second, on a reader connection:
    /// a PASSIVE checkpoint never blocks the writer (SQLite WAL §"Checkpointing").
    private let checkpointer: Task<Void, Never>

    private init(writer: SQLiteSession, readers: [SQLiteSession], threadPool: NIOThreadPool, logger: Logger) {
        self.writer = ResourcePool([writer])
        let readerPool = ResourcePool(readers)
        self.readers = readerPool
        self.readerCount = readers.count
        self.threadPool = threadPool
        self.logger = logger
        self.checkpointer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                _ = try? await readerPool.with { session in
                    try await session.executeOffloaded("PRAGMA wal_checkpoint(PASSIVE)")
                }
            }
        }
    }

    static func open(path: String, readerCount: Int = 4, logger: Logger) async throws -> SQLiteDatabaseStore {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError.unavailable("cannot create folder \(directory): \(error.localizedDescription)")
        }
        var opened: [SQLiteSession] = []
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        do {
            for index in 0...readerCount {
                let session = try await SQLiteSession.open(path: path, threadPool: threadPool)
                opened.append(session)
                let sql = session.sql(logger: logger)
                // The writer waits for another process's lock only briefly on its thread; `beginImmediate`
                // retries with sleeps in between. Readers in WAL mode wait only during recovery.
                try await sql.raw(index == 0 ? "PRAGMA busy_timeout = 20" : "PRAGMA busy_timeout = 5000").run()
                if index == 0 {
                    _ = try await sql.raw("PRAGMA journal_mode = WAL").all()
                    // The writer never checkpoints inside a commit (which would hold up the next
                    // write for tens of milliseconds); a reader does it in the background instead.
                    _ = try await sql.raw("PRAGMA wal_autocheckpoint = 0").all()
                }
                try await sql.raw("PRAGMA synchronous = NORMAL").run()
                try await sql.raw("PRAGMA foreign_keys = ON").run()
            }
        } catch {
            for session in opened { await session.close() }
            try? await threadPool.shutdownGracefully()
            throw StorageError.unavailable("cannot open SQLite file \(path): \(error)")
        }
        return SQLiteDatabaseStore(
            writer: opened[0], readers: Array(opened.dropFirst()), threadPool: threadPool, logger: logger)
    }

    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        if let session = writer.tryAcquire() {
            defer { writer.release(session) }
            return try await body(session.sql(logger: logger))
        }
        return try await readers.with { session in try await body(session.sql(logger: logger)) }
    }

    func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await writer.with { session in
            let sql = session.sql(logger: logger)
            try await Self.beginImmediate(sql)
            return try await commitOrRollBack(sql, body)
        }
    }

    /// `BEGIN IMMEDIATE`, retried while another process holds the write lock for longer than the
    /// busy timeout (each store blocks only its own threads while it waits).
    static func beginImmediate(_ sql: any SQLDatabase) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            do {
                try await sql.raw("BEGIN IMMEDIATE").run()
                return
            } catch let error as SQLiteFailure where error.isBusy {
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    func ping() async -> Bool {
        (try? await read { try await $0.raw("SELECT 1 AS one").first() }) != nil
    }

    func close() async {
        checkpointer.cancel()
        _ = await checkpointer.value
        let writers = await writer.drain(count: 1)
        let all = writers + (await readers.drain(count: readerCount))
        for session in all { await session.close() }
        try? await threadPool.shutdownGracefully()
    }
}
