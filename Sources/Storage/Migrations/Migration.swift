import Foundation
import SQLKit

/// One numbered, forward-only change to the schema. Migrations are the only place that knows the
/// two SQL dialects apart; everything else is written once.
public struct Migration: Sendable {
    /// Position in the sequence; never reused, never reordered.
    public let version: Int
    /// A short name for logs and the `schema_migrations` table.
    public let name: String
    /// The statements, for the given dialect.
    public let statements: @Sendable (ColumnTypes) -> [String]

    /// A migration; `statements` answers the SQL for a dialect.
    public init(version: Int, name: String, statements: @escaping @Sendable (ColumnTypes) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// The few column types that are spelled differently by SQLite and PostgreSQL.
public struct ColumnTypes: Sendable {
    /// Raw bytes.
    public let blob: String
    /// An auto-incrementing 64-bit primary key.
    public let serialPrimaryKey: String

    init(_ flavor: SQLFlavor) {
        switch flavor {
        case .sqlite:
            blob = "BLOB"
            serialPrimaryKey = "INTEGER PRIMARY KEY AUTOINCREMENT"
        case .postgres:
            blob = "BYTEA"
            serialPrimaryKey = "BIGSERIAL PRIMARY KEY"
        }
    }
}

/// Applies the pending migrations in order, each in the same transaction as its bookkeeping row.
public struct Migrator: Sendable {
    /// Every migration of Gatehouse, in order.
    public static let all: [Migration] = [
        M001People.migration,
        M002OAuthClients.migration,
        M003AuthorizationServer.migration,
        M004Files.migration,
        M005SignInReservations.migration,
        M006GrantResources.migration,
        M007APIKeys.migration,
        M008PageOnce.migration,
        M009DeveloperTokens.migration,
        M010DynamicRegistration.migration,
        M011ClientMetadataDocuments.migration,
    ]

    private let database: any Database
    private let migrations: [Migration]

    /// A migrator for `database`.
    public init(database: any Database, migrations: [Migration] = Migrator.all) {
        self.database = database
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies what is missing and answers the versions applied now. On PostgreSQL a transaction-level
    /// advisory lock makes processes starting together take turns.
    @discardableResult
    public func migrate(now: Date = Date()) async throws -> [Int] {
        let types = ColumnTypes(database.flavor)
        let flavor = database.flavor
        let migrations = self.migrations
        return try await database.write { sql in
            if flavor == .postgres {
                try await sql.raw("SELECT pg_advisory_xact_lock(7243001) AS locked").run()
            }
            try await sql.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """).run()
            let done = Set(try await sql.raw("SELECT version FROM schema_migrations").all()
                .map { try $0.decode(column: "version", as: Int.self) })
            var applied: [Int] = []
            for migration in migrations where !done.contains(migration.version) {
                for statement in migration.statements(types) {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                try await sql.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Int64(now.timeIntervalSince1970)))
                    """).run()
                applied.append(migration.version)
            }
            return applied
        }
    }

    /// The versions already applied; none on a database never migrated (the question creates nothing,
    /// so a start can ask it before it knows it may change anything).
    public func appliedVersions() async throws -> [Int] {
        let flavor = database.flavor
        return try await database.read { sql in
            let exists = switch flavor {
            case .sqlite: "SELECT count(*) AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            case .postgres: "SELECT count(*) AS found FROM pg_catalog.pg_tables WHERE tablename = 'schema_migrations' AND schemaname = current_schema()"
            }
            guard let row = try await sql.raw(SQLQueryString(exists)).first(), try row.decode(column: "found", as: Int.self) > 0 else {
                return []
            }
            return try await sql.raw("SELECT version FROM schema_migrations ORDER BY version").all()
                .map { try $0.decode(column: "version", as: Int.self) }
        }
    }
}
