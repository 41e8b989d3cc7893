import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import Synchronization
import Atomics
import CSQLite

/// One `sqlite3` connection, used by one task at a time (a `ResourcePool` hands it out), with its
/// prepared statements kept for reuse.
///
/// Statements run on the calling task's thread: a point query or a commit in WAL mode takes
/// microseconds, far less than the two thread hops SQLiteNIO's thread pool costs per statement.
/// Statements that move large values (over `offloadThreshold` bytes bound) and checkpoints still go
/// to a thread pool of their own, so a 20 MB blob never holds up a thread of the shared executor.
final class SQLiteSession: @unchecked Sendable {
    // @unchecked: the handle and the cache are touched only by the task that holds the session
    // (one at a time, handed over through a `ResourcePool`, which orders the accesses).
    private var handle: OpaquePointer?
    /// The same handle for `interrupt()`, which another thread may call while the holder runs a statement.
    private let interruptible = Mutex<InterruptibleHandle?>(nil)
    /// The file this connection opened (`reopen()` opens it again).
    let path: String
    private var statements: [String: Prepared] = [:]
    private let threadPool: NIOThreadPool
    /// This connection's mapping of the wal-index, once it has read in WAL mode.
    private var walIndex: UnsafeRawPointer?
    /// The wal-index header as it was when the read transaction kept open on this connection began.
    private var keptSnapshot: WALIndexHeader?
    /// Whether `PRAGMA query_only` is on: while reading, so that a write slipped into a read fails
    /// rather than turning the kept transaction into one that holds the write lock.
    private var queryOnly = false

    /// Bound bytes above which a statement runs on the thread pool.
    static let offloadThreshold = 256 * 1024
    /// Prepared statements kept per connection; the cache starts afresh when it would grow past this.
    static let cacheLimit = 256

    private init(handle: OpaquePointer, path: String, threadPool: NIOThreadPool) {
        self.handle = handle
        self.path = path
        self.threadPool = threadPool
        interruptible.withLock { $0 = InterruptibleHandle(pointer: handle) }
    }

    /// Opens `path` (creating it), with extended result codes.
    static func open(path: String, threadPool: NIOThreadPool) async throws -> SQLiteSession {
        try await threadPool.runIfActive { SQLiteSession(handle: try Self.openHandle(path), path: path, threadPool: threadPool) }
    }

    private static func openHandle(_ path: String) throws -> OpaquePointer {
        Self.initialize
        // The system's library is whatever libsqlite3 resolves to: RETURNING needs 3.35 and the open
        // flags 3.37, and connections move between threads, so it must be built thread-safe.
        guard sqlite3_libversion_number() >= 3_037_000, sqlite3_threadsafe() != 0 else {
            throw SQLiteFailure(code: SQLITE_ERROR, message: """
                SQLite 3.37 or later, built thread-safe, is needed; this process loaded \(String(cString: sqlite3_libversion()))
                """)
        }
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "code \(status)"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteFailure(code: status, message: message)
        }
        return handle
    }

    /// Closes the connection and opens the file again: for a connection that is stuck inside a
    /// transaction it can neither commit nor roll back (closing rolls it back). The caller sets
    /// the connection's pragmas again.
    func reopen() async throws {
        await close()
        try await threadPool.runIfActive {
            let fresh = try Self.openHandle(self.path)
            self.handle = fresh
            self.interruptible.withLock { $0 = InterruptibleHandle(pointer: fresh) }
        }
        queryOnly = false
    }

    /// `false` once opening it again or setting its pragmas failed: the store opens it again before
    /// it is used (`SQLiteDatabaseStore.restore`), and reads pass it by.
    var healthy = true

    /// Set by the store while a write's body runs: a statement then runs only inside the group's
    /// transaction, never in autocommit mode after SQLite rolled the transaction back under a body
    /// that caught the error and went on.
    var writing = false

    /// `true` while the connection is inside a transaction (`sqlite3_get_autocommit` is 0). After a
    /// failed statement this tells whether SQLite rolled the whole transaction back on its own
    /// (it does for IOERR and INTERRUPT, and for FULL or NOMEM without a statement journal).
    var inTransaction: Bool {
        guard let handle else { return false }
        return sqlite3_get_autocommit(handle) == 0
    }

    /// Makes the statement running on this connection stop with `SQLITE_INTERRUPT` (`sqlite3_interrupt`,
    /// safe from any thread).
    func interrupt() {
        interruptible.withLock { handle in if let handle { sqlite3_interrupt(handle.pointer) } }
    }

    #if DEBUG
    /// Tests only: statements (by their exact text) that fail with the given code instead of running,
    /// to reach states SQLite gives no portable way to cause (a `COMMIT` and a `ROLLBACK` that both fail).
    let injectedFailures = Mutex<[String: Int32]>([:])
    #endif

    /// `sqlite3_initialize` once per process, before the first connection (it is not itself safe to race).
    private static let initialize: Void = { _ = sqlite3_initialize() }()

    /// Runs one statement and hands each row to `onRow`.
    func execute(_ sql: String, _ binds: [SQLiteValue], _ onRow: (SQLiteSessionRow) -> Void) async throws {
        if writing, !inTransaction {
            throw SQLiteFailure(code: SQLITE_ABORT, message: "the write's transaction was rolled back; nothing more runs in it")
        }
        if binds.reduce(0, { $0 + $1.boundSize }) > Self.offloadThreshold {
            // Rows of such a statement are collected on the pool and handed over afterwards.
            let rows = try await threadPool.runIfActive {
                var rows: [SQLiteSessionRow] = []
                try self.run(sql, binds, large: true) { rows.append($0) }
                return rows
            }
            rows.forEach(onRow)
        } else {
            try run(sql, binds, onRow)
        }
    }

    /// Runs one statement on the thread pool: for work that may take long whatever its binds (checkpoints).
    func executeOffloaded(_ sql: String) async throws {
        endKeptSnapshot()
        try await threadPool.runIfActive { try self.run(sql, []) { _ in } }
    }

    // MARK: Snapshots kept between reads

    /// Runs `body`, which only reads, in a read transaction that stays open when it returns, and is
    /// used again by the next read on this connection as long as nothing was committed in between.
    ///
    /// Each read transaction in WAL mode takes and drops a read lock on the wal-index (SQLite
    /// "WAL-mode File Locking": two `fcntl` calls under a process-wide mutex), which is most of what
    /// a point query costs and serializes the threads reading at once. Whether anything was committed
    /// since the kept transaction began, by this process or another, shows in the wal-index header
    /// (SQLite file format §4.5: every commit rewrites it, a restarted log changes its salts), read
    /// here without a lock: when it is unchanged a new transaction would see exactly what the kept
    /// one sees, so keeping it changes no answer. A torn read of a header being rewritten only ever
    /// looks changed, or unchanged while that commit has not yet returned to its writer.
    ///
    /// A kept transaction holds its read lock, which keeps a checkpoint from copying frames past it
    /// and the log from restarting: `endKeptSnapshot()` ends it before a write on this connection,
    /// before a checkpoint, and once a second on idle connections (`SQLiteDatabaseStore`).
    func reading<T>(_ body: () async throws -> T) async throws -> T {
        try setQueryOnly(true)
        try startRead()
        do {
            let value = try await body()
            if walIndex == nil, let handle { walIndex = Self.mapWALIndex(of: handle) }
            return value
        } catch {
            // The statement that failed may have ended the transaction, or left it open.
            endKeptSnapshot()
            throw error
        }
    }

    /// Keeps the open read transaction when the database is unchanged since it began, else begins one.
    private func startRead() throws {
        // Until the wal-index is mapped (the first read), statements run in their own transactions.
        guard let walIndex, let handle else { return }
        let current = WALIndexHeader(walIndex)
        if keptSnapshot != nil {
            if current == keptSnapshot, sqlite3_get_autocommit(handle) == 0 { return }
            endKeptSnapshot()
        }
        // A transaction left open without a kept snapshot (its COMMIT and ROLLBACK failed) would make
        // every BEGIN fail and hold back checkpoints: end it, or say the connection is stuck.
        if sqlite3_get_autocommit(handle) == 0 {
            _ = try? run("ROLLBACK", []) { _ in }
            if sqlite3_get_autocommit(handle) == 0 { healthy = false }
        }
        try run("BEGIN", []) { _ in }
        // Read before the snapshot is taken (at the first statement): a commit in between looks like
        // a change next time, never the other way round.
        keptSnapshot = current
    }

    /// Ends the read transaction kept open on this connection, if any.
    func endKeptSnapshot() {
        guard keptSnapshot != nil else { return }
        keptSnapshot = nil
        guard let handle, sqlite3_get_autocommit(handle) == 0 else { return }
        do {
            try run("COMMIT", []) { _ in }
        } catch {
            _ = try? run("ROLLBACK", []) { _ in }
        }
    }

    /// Turns `PRAGMA query_only` on for reads or off for a write, when it is not already.
    func setQueryOnly(_ on: Bool) throws {
        guard queryOnly != on else { return }
        try run(on ? "PRAGMA query_only = ON" : "PRAGMA query_only = OFF", []) { _ in }
        queryOnly = on
    }

    /// The first region of this connection's wal-index (the `-shm` file, mapped by SQLite's unix VFS
    /// once the connection has read in WAL mode); `nil` when there is none to map.
    private static func mapWALIndex(of handle: OpaquePointer) -> UnsafeRawPointer? {
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(handle, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK,
              let methods = file?.pointee.pMethods, methods.pointee.iVersion >= 2, let map = methods.pointee.xShmMap
        else { return nil }
        var region: UnsafeMutableRawPointer?
        // Region 0 with extension off: only a wal-index that already exists is mapped.
        guard map(file, 0, 32 * 1024, 0, &region) == SQLITE_OK, let region else { return nil }
        return UnsafeRawPointer(region)
    }

    /// A prepared statement and the names of its result columns, read when it is prepared: every
    /// statement names its columns (no `SELECT *`), so they stay what they were then.
    private struct Prepared {
        let statement: OpaquePointer
        let columns: [String]
    }

    private func run(_ sql: String, _ binds: [SQLiteValue], large: Bool = false, _ onRow: (SQLiteSessionRow) -> Void) throws {
        guard let handle else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "connection closed") }
        #if DEBUG
        if let code = injectedFailures.withLock({ $0[sql] }) { throw SQLiteFailure(code: code, message: "injected failure of \(sql)") }
        #endif
        let entry = try prepared(sql, on: handle)
        let statement = entry.statement, columns = entry.columns
        defer {
            sqlite3_reset(statement)
            // Every parameter is bound again on each use, so values are left in place: clearing them
            // expires statements whose plan looked at a bound value, and the next step would re-prepare.
            // Large values are let go at once rather than kept alive by the cache.
            if large { sqlite3_clear_bindings(statement) }
        }
        for (offset, value) in binds.enumerated() {
            let status = bind(value, at: Int32(offset + 1), to: statement, copying: !large)
            guard status == SQLITE_OK else { throw failure(status, on: handle) }
        }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(status, on: handle) }
            var values: [SQLiteValue] = []
            values.reserveCapacity(columns.count)
            for index in 0..<Int32(columns.count) { values.append(Self.value(at: index, of: statement)) }
            onRow(SQLiteSessionRow(columns: columns, values: values))
        }
    }

    private func prepared(_ sql: String, on handle: OpaquePointer) throws -> Prepared {
        if let known = statements[sql] { return known }
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw failure(status, on: handle) }
        if statements.count >= Self.cacheLimit { finalizeAll() }
        let prepared = Prepared(statement: statement, columns: Self.columnNames(of: statement))
        statements[sql] = prepared
        return prepared
    }

    /// Binds `value`. With `copying` false a blob is bound in place (`SQLITE_STATIC`): only for a
    /// statement whose bindings are cleared before `run` returns, while `binds` keeps the bytes alive,
    /// so a 20 MB upload is not copied into SQLite once more before it writes it.
    private func bind(_ value: SQLiteValue, at index: Int32, to statement: OpaquePointer, copying: Bool) -> Int32 {
        switch value {
        case .integer(let integer):
            return sqlite3_bind_int64(statement, index, Int64(integer))
        case .float(let double):
            return sqlite3_bind_double(statement, index, double)
        case .text(let text):
            return text.withCString { pointer in
                sqlite3_bind_text64(statement, index, pointer, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
            }
        case .blob(let buffer):
            return buffer.withUnsafeReadableBytes { bytes in
                // A zero-length blob still needs a non-null pointer, or SQLite stores NULL.
                sqlite3_bind_blob64(statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                                               UInt64(bytes.count), copying ? transient : nil)
            }
        case .null:
            return sqlite3_bind_null(statement, index)
        }
    }

    private static func columnNames(of statement: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(statement)).map { index in
            sqlite3_column_name(statement, index).map { String(cString: $0) } ?? ""
        }
    }

    private static func value(at index: Int32, of statement: OpaquePointer) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            return .float(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let text = sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if let bytes = sqlite3_column_blob(statement, index) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return .blob(buffer)
        default:
            return .null
        }
    }

    private func failure(_ status: Int32, on handle: OpaquePointer) -> SQLiteFailure {
        SQLiteFailure(code: status, message: sqlite3_errmsg(handle).map { String(cString: $0) } ?? "code \(status)")
    }

    private func finalizeAll() {
        for prepared in statements.values { sqlite3_finalize(prepared.statement) }
        statements.removeAll(keepingCapacity: true)
    }

    /// Finalizes every statement and closes the connection (on the thread pool: closing may checkpoint).
    func close() async {
        endKeptSnapshot()
        walIndex = nil
        interruptible.withLock { $0 = nil }
        _ = try? await threadPool.runIfActive {
            self.finalizeAll()
            // close_v2: a statement SQLite still counts as open never leaves the handle behind.
            if let handle = self.handle { sqlite3_close_v2(handle) }
            self.handle = nil
        }
    }

    /// This connection seen through SQLKit.
    func sql(logger: Logger) -> any SQLDatabase { SQLiteSessionDatabase(session: self, logger: logger) }
}

/// The first copy of the wal-index header (SQLite file format §4.5.1, 48 bytes: version, change
/// counter, page size, last valid frame, database size, checksums and salts).
///
/// Other connections and processes rewrite it while it is read here, so each 8-byte word is read with
/// an atomic load (acquiring, as SQLite's own `walIndexTryHdr` reads behind a memory barrier): no
/// word is torn and no read is undefined behaviour. The words together may still mix two commits;
/// that only ever looks like a change (a new read transaction), never like no change.
struct WALIndexHeader: Equatable {
    let words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    init(_ region: UnsafeRawPointer) {
        let base = UnsafeMutableRawPointer(mutating: region).assumingMemoryBound(to: UnsafeAtomic<UInt64>.Storage.self)
        func word(_ index: Int) -> UInt64 { UnsafeAtomic<UInt64>(at: base + index).load(ordering: .acquiring) }
        words = (word(0), word(1), word(2), word(3), word(4), word(5))
    }

    static func == (a: Self, b: Self) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2
            && a.words.3 == b.words.3 && a.words.4 == b.words.4 && a.words.5 == b.words.5
    }
}

/// A connection's handle for `sqlite3_interrupt`, the one call SQLite allows from any thread.
struct InterruptibleHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// An error code and message from SQLite.
struct SQLiteFailure: Error, CustomStringConvertible {
    /// The (extended) result code.
    let code: Int32
    let message: String

    /// `SQLITE_BUSY` or `SQLITE_LOCKED` (any extended variant): another connection holds a lock.
    var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }

    var description: String { "SQLite error \(code): \(message)" }
}

private extension SQLiteValue {
    /// The bytes a bind of this value copies into SQLite.
    var boundSize: Int {
        switch self {
        case .blob(let buffer): buffer.readableBytes
        case .text(let text): text.utf8.count
        default: 8
        }
    }
}

/// A row of an `SQLiteSession` statement, read through SQLKit.
struct SQLiteSessionRow: SQLRow {
    let columns: [String]
    let values: [SQLiteValue]

    var allColumns: [String] { columns }

    func contains(column: String) -> Bool { columns.contains(column) }

    func decodeNil(column: String) throws -> Bool {
        guard let index = columns.firstIndex(of: column) else { return true }
        return values[index] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let index = columns.firstIndex(of: column) else {
            throw DecodingError.keyNotFound(
                SQLiteSessionColumn(name: column), .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        let value = values[index]
        // The types repositories read on every request, without a `Decoder` (the same rules as
        // `SQLiteValue.decode`: text from TEXT, INTEGER or REAL; integers from INTEGER only).
        if D.self == String.self, let text = value.string { return text as! D }
        if D.self == Int64.self, let number = value.integer { return number as! D }
        if D.self == Int.self, let number = value.integer { return Int(number) as! D }
        if D.self == String?.self {
            if value == .null { return String?.none as! D }
            if let text = value.string { return String?.some(text) as! D }
        }
        if D.self == Data.self, case .blob(let buffer) = value { return Data(sharing: buffer) as! D }
        if D.self == Int64?.self {
            if value == .null { return Int64?.none as! D }
            if let number = value.integer { return Int64?.some(number) as! D }
        }
        return try value.decode(D.self)
    }
}

private struct SQLiteSessionColumn: CodingKey {
    let name: String
    var stringValue: String { name }
    var intValue: Int? { nil }
    init(name: String) { self.name = name }
    init?(stringValue: String) { self.name = stringValue }
    init?(intValue: Int) { nil }
}

/// An `SQLiteSession` as an `SQLDatabase`: SQLiteKit's dialect and value encoding, our execution.
struct SQLiteSessionDatabase: SQLDatabase {
    let session: SQLiteSession
    let logger: Logger
    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let (sql, binds) = serialize(query)
        try await session.execute(sql, binds.map { try SQLiteValue(encoding: $0) }) { onRow($0) }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await closure(self)
    }
}
