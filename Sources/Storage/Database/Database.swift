import Foundation
import Logging
import SQLKit

/// Which SQL server a `Database` talks to. Only migrations look at it: queries are written once.
public enum SQLFlavor: String, Sendable {
    /// The embedded default: one file, WAL mode.
    case sqlite
    /// PostgreSQL, for many processes side by side.
    case postgres
}

/// The storage every repository uses: reads on a pool, writes in transactions.
///
/// On SQLite writes go through one writer connection with `BEGIN IMMEDIATE` (so two writers never
/// deadlock on a lock upgrade) and reads through a small pool of readers (WAL lets them run beside
/// the writer). On PostgreSQL both come from one connection pool.
public protocol Database: Sendable {
    /// The SQL server behind this database.
    var flavor: SQLFlavor { get }
    /// Runs `body` on a connection for reading.
    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T
    /// `true` when a trivial query succeeds (for `/health`).
    func ping() async -> Bool
    /// Closes every connection; the database must not be used afterwards.
    func close() async
}

extension Database {
    /// Runs `body`, then closes this database whether `body` returned or threw: for a command or a
    /// check that opens the database for one piece of work.
    public func closing<T>(after body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            await close()
            return value
        } catch {
            await close()
            throw error
        }
    }
}

/// Where the database is, parsed from `GATEHOUSE_DATABASE_URL` or made from the data folder.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL server.
    case postgres(PostgresLocation)

    /// `true` for an SQLite file.
    public var isSQLite: Bool {
        if case .sqlite = self { return true }
        return false
    }

    /// Parses `sqlite:///abs/path`, `sqlite://relative/path`, a bare file path, or `postgres://…`.
    public static func parse(_ text: String) -> DatabaseLocation? {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return PostgresLocation(url: text).map(DatabaseLocation.postgres)
        }
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            return path.isEmpty ? nil : .sqlite(path: path)
        }
        if text.contains("://") || text.isEmpty { return nil }
        return .sqlite(path: text)
    }

    /// The location with any password left out.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite://\(path)"
        case .postgres(let location): location.description
        }
    }
}

/// The parts of a `postgres://user:password@host:port/database?sslmode=…` URL.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// Server host name or address.
    public var host: String
    /// Server port (5432 by default).
    public var port: Int
    /// Role to connect as.
    public var username: String
    /// Password of the role, if any.
    public var password: String?
    /// Database name (the username when left out).
    public var database: String
    /// `true` for `sslmode=require` (or `verify-full`): connect with TLS.
    public var requiresTLS: Bool

    /// Parses a PostgreSQL connection URL; `nil` when it is not one.
    public init?(url text: String) {
        guard let components = URLComponents(string: text),
              components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty
        else { return nil }
        self.host = host
        self.port = components.port ?? 5432
        guard (1...65535).contains(port) else { return nil }
        self.username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        let name = String(components.path.drop(while: { $0 == "/" }))
        self.database = name.isEmpty ? username : name
        let sslmode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        switch sslmode {
        case "disable", "allow", "prefer": requiresTLS = false
        case "require", "verify-ca", "verify-full": requiresTLS = true
        default: return nil
        }
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }
}

/// A failure of the storage layer that is not a bug in the caller.
public enum StorageError: Error, CustomStringConvertible {
    /// The database could not be reached or opened.
    case unavailable(String)

    /// One line for the operator.
    public var description: String {
        switch self {
        case .unavailable(let reason): "database unavailable: \(reason)"
        }
    }
}

/// How SQLite makes a commit durable (`PRAGMA synchronous`, "Write-Ahead Logging" §"Performance
/// Considerations"). In WAL mode `normal` syncs only at checkpoints, so a power cut can lose the last
/// commits — a revocation, a refresh token's rotation — though never the file's consistency; `full`
/// syncs the log at every commit (once per commit group here). An authorization server defaults to `full`.
public enum SQLiteSynchronous: String, Sendable, CaseIterable {
    case full, normal
}

/// How the embedded SQLite file is kept.
public struct SQLiteOptions: Sendable {
    /// How a commit is made durable (`GATEHOUSE_SQLITE_SYNCHRONOUS`).
    public var synchronous: SQLiteSynchronous
    /// The size past which the write-ahead log is cut back while writers are idle
    /// (`GATEHOUSE_WAL_LIMIT_BYTES`, 64 MiB by default).
    public var walLimitBytes: Int

    public init(synchronous: SQLiteSynchronous = .full, walLimitBytes: Int = 64 << 20) {
        self.synchronous = synchronous
        self.walLimitBytes = walLimitBytes
    }
}

extension StorageError {
    /// One line for the operator about a database error: SQLite's own message, PostgreSQL's own words.
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let failure as SQLiteFailure: failure.message
        case let failure as StorageError: failure.description
        default: PostgresDatabaseStore.describe(error)
        }
    }
}

/// Opens the database at `location`.
public func openDatabase(_ location: DatabaseLocation, sqlite: SQLiteOptions = SQLiteOptions(), logger: Logger) async throws
    -> any Database
{
    switch location {
    case .sqlite(let path): try await SQLiteDatabaseStore.open(path: path, options: sqlite, logger: logger)
    case .postgres(let postgres): try await PostgresDatabaseStore.open(postgres, logger: logger)
    }
}

/// Runs `body` inside the transaction just begun on `sql`: commits when it returns, rolls back when it throws.
func commitOrRollBack<T>(
    _ sql: any SQLDatabase, isolation: isolated (any Actor)? = #isolation, _ body: (any SQLDatabase) async throws -> T
) async throws -> T {
    do {
        let value = try await body(sql)
        try await sql.raw("COMMIT").run()
        return value
    } catch {
        try? await sql.raw("ROLLBACK").run()
        throw error
    }
}
