import Foundation
import Logging
import SQLKit
import NIOPosix
import SQLiteKit

/// SQLite in WAL mode: one writer connection (`BEGIN IMMEDIATE`) and a pool of readers.
final class SQLiteDatabaseStore: Database {
    let flavor = SQLFlavor.sqlite
    private let writer: ResourcePool<SQLiteConnection>
    private let readers: ResourcePool<SQLiteConnection>
    private let readerCount: Int
    /// SQLite calls block their thread; they get threads of their own (one per connection) so that
    /// nothing else on the shared pool (bcrypt, file I/O) can starve a commit.
    private let threadPool: NIOThreadPool

    /// Copies the write-ahead log into the database file every second, on a reader connection:
    /// a PASSIVE checkpoint never blocks the writer (SQLite WAL §"Checkpointing").
    private let checkpointer: Task<Void, Never>

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], threadPool: NIOThreadPool) {
        self.writer = ResourcePool([writer])
        let readerPool = ResourcePool(readers)
        self.readers = readerPool
        self.readerCount = readers.count
        self.threadPool = threadPool
        self.checkpointer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                _ = try? await readerPool.with { connection in
                    try await connection.sql(queryLogLevel: nil).raw("PRAGMA wal_checkpoint(PASSIVE)").all()
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
        var opened: [SQLiteConnection] = []
        let threadPool = NIOThreadPool(numberOfThreads: readerCount + 1)
        threadPool.start()
        do {
            for index in 0...readerCount {
                let connection = try await SQLiteConnection.open(
                    storage: .file(path: path), threadPool: threadPool, logger: logger,
                    on: MultiThreadedEventLoopGroup.singleton.any()
                )
                opened.append(connection)
                let sql = connection.sql(queryLogLevel: nil)
                try await sql.raw("PRAGMA busy_timeout = 5000").run()
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
            for connection in opened { try? await connection.close() }
            try? await threadPool.shutdownGracefully()
            throw StorageError.unavailable("cannot open SQLite file \(path): \(error)")
        }
        return SQLiteDatabaseStore(writer: opened[0], readers: Array(opened.dropFirst()), threadPool: threadPool)
    }

    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await readers.with { connection in try await body(connection.sql(queryLogLevel: nil)) }
    }

    func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await writer.with { connection in
            let sql = connection.sql(queryLogLevel: nil)
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
            } catch let error as SQLiteError where error.reason == .busy || error.reason == .locked {
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
        for connection in all { try? await connection.close() }
        try? await threadPool.shutdownGracefully()
    }
}
