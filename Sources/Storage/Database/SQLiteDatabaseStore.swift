import Foundation
import Logging
import SQLKit
import NIOPosix
import Synchronization

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
    /// a PASSIVE checkpoint never blocks the writer (SQLite WAL §"Checkpointing"). Read transactions
    /// kept open on idle connections are ended first.
    private let checkpointer: Task<Void, Never>

    private init(writer: SQLiteSession, readers: [SQLiteSession], threadPool: NIOThreadPool, logger: Logger) {
        self.writer = ResourcePool([writer])
        let readerPool = ResourcePool(readers)
        self.readers = readerPool
        self.readerCount = readers.count
        self.threadPool = threadPool
        self.logger = logger
        let writerPool = self.writer
        self.checkpointer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                Self.endIdleSnapshots(writer: writerPool, readers: readerPool)
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

    /// Reads in a snapshot kept from the connection's previous read while nothing changed
    /// (`SQLiteSession.reading`), on the writer when it is idle (its page cache stays warm; readers
    /// drop theirs after every write), else on a reader.
    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        if let session = writer.tryAcquire() {
            defer { writer.release(session) }
            return try await session.reading { try await body(session.sql(logger: logger)) }
        }
        return try await readers.with { session in try await session.reading { try await body(session.sql(logger: logger)) } }
    }

    /// Ends the read transactions kept open on idle connections, so that they hold up neither the
    /// checkpoint that follows nor the restart of the log for long.
    private static func endIdleSnapshots(writer: ResourcePool<SQLiteSession>, readers: ResourcePool<SQLiteSession>) {
        if let session = writer.tryAcquire() {
            session.endKeptSnapshot()
            writer.release(session)
        }
        var idle: [SQLiteSession] = []
        while let session = readers.tryAcquire() {
            session.endKeptSnapshot()
            idle.append(session)
        }
        idle.forEach(readers.release)
    }

    /// Group commit: while other writes wait for the writer, a finished write hands the connection on
    /// with its transaction still open, and the last of the group commits for all. Each write runs in
    /// a savepoint of its own, so one that throws takes back only its own changes; every write of the
    /// group returns only after the `COMMIT` succeeded (or throws its error). Writes are serial on one
    /// connection either way, so each sees exactly what it would have seen alone, one after another.
    func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        let session = await writer.acquire()
        let sql = session.sql(logger: logger)
        // Only the holder of the writer touches `openGroup`; the pool's lock orders the hand-overs.
        let group: CommitGroup
        if let open = openGroup.withLock({ $0 }) {
            group = open
        } else {
            session.endKeptSnapshot()
            do {
                try session.setQueryOnly(false)
                try await Self.beginImmediate(sql)
            } catch {
                writer.release(session)
                throw error
            }
            group = CommitGroup()
            openGroup.withLock { $0 = group }
        }
        group.members += 1

        let outcome: Result<T, any Error>
        do {
            try await sql.raw("SAVEPOINT gatehouse_write").run()
            do {
                outcome = .success(try await body(sql))
                try await sql.raw("RELEASE gatehouse_write").run()
            } catch {
                try await sql.raw("ROLLBACK TO gatehouse_write").run()
                try await sql.raw("RELEASE gatehouse_write").run()
                throw error
            }
        } catch {
            // The body failed and its savepoint was rolled back, or the savepoint itself failed (then
            // SQLite may have ended the whole transaction, and the group's COMMIT reports it).
            await finish(group, session: session, sql: sql)
            throw error
        }
        try await finish(group, session: session, sql: sql).get()
        return try outcome.get()
    }

    /// Hands the open transaction to the next waiting write, or commits the group. Answers how the
    /// group's `COMMIT` went (waiting for it when the connection was handed on).
    @discardableResult
    private func finish(_ group: CommitGroup, session: SQLiteSession, sql: any SQLDatabase) async -> Result<Void, any Error> {
        // Once closing, nobody is handed an open transaction: the next in line may be `close` itself.
        if group.members < Self.groupLimit, !closing.withLock({ $0 }), writer.handOver(session) {
            return await group.committed()
        }
        openGroup.withLock { $0 = nil }
        let result: Result<Void, any Error>
        do {
            try await sql.raw("COMMIT").run()
            result = .success(())
        } catch {
            try? await sql.raw("ROLLBACK").run()
            result = .failure(error)
        }
        writer.release(session)
        group.complete(result)
        return result
    }

    /// Writes committed together at most (bounds how long the first of a group waits).
    static let groupLimit = 16
    private let openGroup = Mutex<CommitGroup?>(nil)
    private let closing = Mutex(false)

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
        closing.withLock { $0 = true }
        checkpointer.cancel()
        _ = await checkpointer.value
        let writers = await writer.drain(count: 1)
        let all = writers + (await readers.drain(count: readerCount))
        for session in all { await session.close() }
        try? await threadPool.shutdownGracefully()
    }
}

/// The writes sharing one SQLite transaction, waiting for its `COMMIT`.
final class CommitGroup: @unchecked Sendable {
    // @unchecked: `members` is touched only by the writer's holder (handed over through the pool);
    // the outcome and the waiters are behind the lock.
    var members = 0
    private let state = Mutex<(outcome: Result<Void, any Error>?, waiters: [CheckedContinuation<Result<Void, any Error>, Never>])>(
        (nil, []))

    /// Waits for the group's `COMMIT`.
    func committed() async -> Result<Void, any Error> {
        await withCheckedContinuation { continuation in
            let done: Result<Void, any Error>? = state.withLock { state in
                if let outcome = state.outcome { return outcome }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Tells every waiting write how the `COMMIT` went.
    func complete(_ outcome: Result<Void, any Error>) {
        let waiters = state.withLock { state in
            state.outcome = outcome
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
    }
}
