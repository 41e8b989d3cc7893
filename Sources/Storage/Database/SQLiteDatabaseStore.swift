import CSQLite
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
    /// The writer connection itself (the same object for the store's life, reopened in place).
    private let writerSession: SQLiteSession
    private let readers: ResourcePool<SQLiteSession>
    private let readerCount: Int
    private let options: SQLiteOptions
    private let threadPool: NIOThreadPool
    private let logger: Logger

    /// Copies the write-ahead log into the database file every second, on a reader connection:
    /// a PASSIVE checkpoint never blocks the writer (SQLite WAL §"Checkpointing"). Read transactions
    /// kept open on idle connections are ended first.
    private let checkpointer: Task<Void, Never>

    private init(path: String, writer: SQLiteSession, readers: [SQLiteSession], threadPool: NIOThreadPool, options: SQLiteOptions,
                 logger: Logger) {
        self.options = options
        self.writer = ResourcePool([writer])
        self.writerSession = writer
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
                await Self.truncateLog(path: path, limit: options.walLimitBytes, writer: writerPool, readers: readerPool)
            }
        }
    }

    /// Gives the disk back after a burst of writes: when the write-ahead log has grown past `limit`
    /// and the writer is idle, a TRUNCATE checkpoint copies it into the database and cuts the file to
    /// nothing (SQLite's `wal_checkpoint`; a PASSIVE checkpoint never shrinks the file, and
    /// `journal_size_limit` only trims it when the next write starts the log over). Readers that are
    /// reading hold it up; then it is tried again a second later.
    private static func truncateLog(path: String, limit: Int, writer: ResourcePool<SQLiteSession>, readers: ResourcePool<SQLiteSession>) async {
        var status = stat()
        guard stat(path + "-wal", &status) == 0, Int(status.st_size) > limit, let session = writer.tryAcquire() else { return }
        defer { writer.release(session) }
        // A read served by the idle writer keeps its snapshot open; an idle writer is never inside a write.
        session.endKeptSnapshot()
        guard session.healthy, !session.inTransaction else { return }
        endIdleSnapshots(writer: writer, readers: readers)
        try? await session.executeOffloaded("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    static func open(path: String, readerCount: Int = 4, options: SQLiteOptions = SQLiteOptions(), logger: Logger) async throws
        -> SQLiteDatabaseStore
    {
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
                try await configureWhileOthersStart(session, writer: index == 0, options: options, logger: logger)
            }
        } catch {
            for session in opened { await session.close() }
            try? await threadPool.shutdownGracefully()
            throw StorageError.unavailable("cannot open SQLite file \(path): \(error)")
        }
        return SQLiteDatabaseStore(
            path: path, writer: opened[0], readers: Array(opened.dropFirst()), threadPool: threadPool, options: options, logger: logger)
    }

    /// `configure`, tried again for up to thirty seconds while another process holds the file's lock.
    /// SQLite does not wait in its busy handler where waiting could deadlock ("sqlite3_busy_handler":
    /// a connection holding a shared lock that needs the exclusive one, as switching to WAL does,
    /// while another process starting at the same moment does the same), and a process that exits
    /// checkpoints and removes the log under the exclusive lock; both answer SQLITE_BUSY at once.
    private static func configureWhileOthersStart(
        _ session: SQLiteSession, writer: Bool, options: SQLiteOptions, logger: Logger
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await configure(session, writer: writer, options: options, logger: logger)
            } catch let failure as SQLiteFailure where failure.isBusy && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(Int.random(in: 10...50)))
            }
        }
    }

    /// Sets a connection's pragmas, when it is opened and when it is opened again.
    static func configure(_ session: SQLiteSession, writer: Bool, options: SQLiteOptions, logger: Logger) async throws {
        let sql = session.sql(logger: logger)
        // Setting up waits for another process's lock (processes starting together on a new file all
        // switch it to WAL, which takes the file's exclusive lock, and preparing any statement reads
        // the schema); so the wait comes first. Then the writer waits only briefly on its thread
        // (`beginImmediate` retries with sleeps in between); readers in WAL mode wait only during recovery.
        try await sql.raw("PRAGMA busy_timeout = 5000").run()
        // The connection's own settings, checked: a writer without foreign keys would leave a removed
        // person's grants behind.
        try await sql.raw("PRAGMA foreign_keys = ON").run()
        try await sql.raw(options.synchronous == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL").run()
        guard try await sql.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self) == 1 else {
            throw SQLiteFailure(code: SQLITE_ERROR, message: "foreign keys could not be turned on")
        }
        if writer {
            // SQLite answers the mode it is in, and stays in the old one when it cannot switch.
            let mode = try await sql.raw("PRAGMA journal_mode = WAL").first()?.decode(column: "journal_mode", as: String.self)
            guard mode?.lowercased() == "wal" else {
                throw SQLiteFailure(code: SQLITE_ERROR, message: "the file could not be switched to WAL mode (it is in \(mode ?? "an unknown") mode)")
            }
            // The writer never checkpoints inside a commit (which would hold up the next
            // write for tens of milliseconds); a reader does it in the background instead.
            _ = try await sql.raw("PRAGMA wal_autocheckpoint = 0").all()
            // When a checkpoint has copied the whole log and the next write starts it over, the file is
            // cut back to this size.
            _ = try await sql.raw("PRAGMA journal_size_limit = \(unsafeRaw: String(options.walLimitBytes))").all()
            try await sql.raw("PRAGMA busy_timeout = 20").run()
        }
    }

    /// Reads in a snapshot kept from the connection's previous read while nothing changed
    /// (`SQLiteSession.reading`), on the writer when it is idle (its page cache stays warm; readers
    /// drop theirs after every write), else on a reader.
    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        if let session = writer.tryAcquire() {
            defer { writer.release(session) }
            // A writer waiting to be opened again is passed by.
            if session.healthy { return try await session.reading { try await body(session.sql(logger: logger)) } }
        }
        return try await readers.with { session in
            if !session.healthy { await restore(session, writer: false) }
            return try await session.reading { try await body(session.sql(logger: logger)) }
        }
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
    /// group returns only after the `COMMIT` succeeded (or throws). Writes are serial on one
    /// connection either way, so each sees exactly what it would have seen alone, one after another.
    ///
    /// When a write fails in a way that makes SQLite roll back the whole transaction (IOERR, INTERRUPT,
    /// FULL or NOMEM without a statement journal: "Result and Error Codes", `sqlite3_get_autocommit`),
    /// the group is over: that write throws SQLite's own error, every write of the group waiting for
    /// the `COMMIT` is told it failed, and the next write begins a new transaction with
    /// `BEGIN IMMEDIATE` — never a `SAVEPOINT` outside a transaction, which would commit on its own.
    func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        let session = await writer.acquire()
        let sql = session.sql(logger: logger)
        // A writer whose reopening failed earlier (the disk was away) is tried again now.
        if !session.healthy, !closing.withLock({ $0 }) { await restore(session) }
        guard session.healthy else {
            writer.release(session)
            throw StorageError.unavailable("the SQLite writer could not be opened again")
        }
        // Only the holder of the writer touches `openGroup`; the pool's lock orders the hand-overs.
        let group: CommitGroup
        if let open = openGroup.withLock({ $0 }), session.inTransaction {
            group = open
        } else {
            // A group whose transaction is gone is over (its members are told), never joined: a
            // SAVEPOINT outside a transaction would commit on its own.
            if let stale = openGroup.withLock({ group in defer { group = nil }; return group }) {
                stale.complete(.failure(GroupRolledBack(cause: SQLiteFailure(code: SQLITE_ABORT, message: "the transaction ended under the group"))))
            }
            do {
                session.endKeptSnapshot()
                try session.setQueryOnly(false)
                try await Self.beginImmediate(sql)
            } catch {
                await restore(session)
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
            session.writing = true
            let value = try await body(sql)
            try await sql.raw("RELEASE gatehouse_write").run()
            session.writing = false
            outcome = .success(value)
        } catch {
            session.writing = false
            // Take back this write alone, while the group's transaction is still there to keep.
            if session.inTransaction, (try? await sql.raw("ROLLBACK TO gatehouse_write").run()) != nil,
               (try? await sql.raw("RELEASE gatehouse_write").run()) != nil, session.inTransaction
            {
                outcome = .failure(error)
            } else {
                await abandon(group, session: session, sql: sql, cause: error)
                throw error
            }
        }
        try await finish(group, session: session, sql: sql).get()
        return try outcome.get()
    }

    /// Ends a group whose transaction SQLite rolled back under it (or that could not take one write
    /// back): what is left is rolled back, every waiting member is told, the writer is released.
    private func abandon(_ group: CommitGroup, session: SQLiteSession, sql: any SQLDatabase, cause: any Error) async {
        openGroup.withLock { $0 = nil }
        if session.inTransaction { try? await sql.raw("ROLLBACK").run() }
        await restore(session)
        writer.release(session)
        group.complete(.failure(GroupRolledBack(cause: cause)))
    }

    /// Hands the open transaction to the next waiting write, or commits the group. Answers how the
    /// group's `COMMIT` went (waiting for it when the connection was handed on).
    @discardableResult
    private func finish(_ group: CommitGroup, session: SQLiteSession, sql: any SQLDatabase) async -> Result<Void, any Error> {
        // Once closing, nobody is handed an open transaction: the next in line may be `close` itself.
        if group.members < Self.groupLimit, !closing.withLock({ $0 }), writer.handOver(session) {
            return await group.committed()
        }
        let result = await commit(group, session: session, sql: sql)
        writer.release(session)
        return result
    }

    /// Commits the group's transaction (rolls it back when the commit fails) and tells its members.
    private func commit(_ group: CommitGroup, session: SQLiteSession, sql: any SQLDatabase) async -> Result<Void, any Error> {
        openGroup.withLock { $0 = nil }
        let result: Result<Void, any Error>
        do {
            try await sql.raw("COMMIT").run()
            result = .success(())
        } catch {
            if session.inTransaction { try? await sql.raw("ROLLBACK").run() }
            await restore(session)
            result = .failure(error)
        }
        group.complete(result)
        return result
    }

    /// A connection left inside a transaction that neither `COMMIT` nor `ROLLBACK` could end would
    /// fail every later use: it is closed (which rolls the transaction back) and opened again. When
    /// that fails too the connection stays marked, and is tried again at its next use.
    private func restore(_ session: SQLiteSession, writer: Bool = true) async {
        guard session.inTransaction || !session.healthy else { return }
        session.healthy = false
        do {
            try await session.reopen()
            try await Self.configure(session, writer: writer, options: options, logger: logger)
            session.healthy = true
        } catch {
            logger.error("an SQLite connection could not be opened again", metadata: [
                "writer": "\(writer)", "error.type": "\(type(of: error))",
            ])
        }
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

    /// Interrupts the statement the writer runs now (`sqlite3_interrupt`): for tests of what a group
    /// commit does when SQLite rolls its transaction back.
    func interruptWrites() { writerSession.interrupt() }

    #if DEBUG
    /// Tests only: writer statements that fail with a code instead of running (`SQLiteSession.injectedFailures`).
    func injectWriterFailures(_ failures: [String: Int32]) { writerSession.injectedFailures.withLock { $0 = failures } }
    #endif

    func ping() async -> Bool {
        (try? await read { try await $0.raw("SELECT 1 AS one").first() }) != nil
    }

    func close() async {
        closing.withLock { $0 = true }
        checkpointer.cancel()
        _ = await checkpointer.value
        let writers = await writer.drain(count: 1)
        // A write may have handed its open group to this drain just before `closing` was set.
        if let group = openGroup.withLock({ $0 }), let session = writers.first {
            _ = await commit(group, session: session, sql: session.sql(logger: logger))
        }
        let drainedReaders = await readers.drain(count: readerCount)
        for session in writers + drainedReaders { await session.close() }
        // A write or read still waiting gets a closed connection, and fails at once instead of waiting forever.
        writers.forEach(writer.release)
        drainedReaders.forEach(readers.release)
        try? await threadPool.shutdownGracefully()
    }
}

/// The error of a write whose group's transaction SQLite rolled back because another write of the
/// group failed (`cause`): nothing of this write was kept.
struct GroupRolledBack: Error, CustomStringConvertible {
    let cause: any Error
    var description: String { "the transaction was rolled back: \(cause)" }
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
