import Foundation
import Logging
import NIOSSL
import PostgresKit
import SQLKit
import Synchronization

/// PostgreSQL through postgres-nio's connection pool; the pool runs in a task owned by this value.
final class PostgresDatabaseStore: Database {
    let flavor = SQLFlavor.postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// Until when the server is taken to be away (see `failingFast`).
    private let outage = Mutex<ContinuousClock.Instant?>(nil)

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    static func open(_ location: PostgresLocation, maximumConnections: Int = 20, logger: Logger) async throws
        -> PostgresDatabaseStore
    {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username,
            password: location.password, database: location.database,
            tls: location.requiresTLS ? .require(.makeClientConfiguration()) : .disable
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        let store = PostgresDatabaseStore(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        // Fail the start at once, with the server's own words, when the database cannot be reached.
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await store.read { try await $0.raw("SELECT 1 AS one").all() } }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    throw StorageError.unavailable("no answer from \(location) within 10 seconds")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await store.close()
            if let storageError = error as? StorageError { throw storageError }
            throw StorageError.unavailable("\(location): \(Self.describe(error))")
        }
        return store
    }

    /// postgres-nio hides the server's message from `description`; `String(reflecting:)` shows it.
    static func describe(_ error: any Error) -> String {
        let text = String(reflecting: error)
        if let range = text.range(of: "message: ") {
            return String(text[range.upperBound...].prefix(200))
        }
        return String(text.prefix(300))
    }

    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await failingFast { leased in
            try await client.withConnection { connection in
                leased()
                return try await body(connection.sql(queryLogLevel: nil, logger: self.logger))
            }
        }
    }

    func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await failingFast { leased in
            try await client.withConnection { connection in
                leased()
                let sql = connection.sql(queryLogLevel: nil, logger: self.logger)
                try await sql.raw("BEGIN").run()
                return try await commitOrRollBack(sql, body)
            }
        }
    }

    /// How long a request waits for a connection before it is answered 503.
    static let patience: Duration = .seconds(4)

    /// Runs `operation` (which calls `leased` once it holds a connection) and turns a lost or
    /// unreachable server into `StorageError.unavailable` (503): while PostgreSQL is away the pool keeps
    /// reconnecting and a request would otherwise wait for a connection indefinitely. Only the wait for
    /// a connection has a deadline, not the statements (a migration may wait for its lock). Errors the
    /// server reports about a statement and the caller's own errors pass through.
    private func failingFast<T: Sendable>(_ operation: (_ leased: @escaping @Sendable () -> Void) async throws -> T) async throws -> T {
        // Once the server was found away, requests are answered 503 at once for a moment; then one
        // request tries again, and its success reopens the gate.
        if let until = outage.withLock({ $0 }), ContinuousClock.now < until {
            throw StorageError.unavailable("PostgreSQL is unreachable; retrying shortly")
        }
        do {
            let value = try await failingSlowly(operation)
            if outage.withLock({ $0 }) != nil { outage.withLock { $0 = nil } }
            return value
        } catch let error as StorageError {
            outage.withLock { $0 = ContinuousClock.now + Self.retryAfterOutage }
            throw error
        }
    }

    /// How long requests are answered 503 without trying, after the server was found away.
    static let retryAfterOutage: Duration = .seconds(1)

    private func failingSlowly<T: Sendable>(_ operation: (_ leased: @escaping @Sendable () -> Void) async throws -> T) async throws -> T {
        let holding = LeaseFlag()
        let leased: @Sendable () -> Void = { holding.set() }
        do {
            return try await withoutActuallyEscaping(operation) { operation in
                let transfer = NonSendableTransfer { try await operation(leased) }
                return try await withThrowingTaskGroup(of: T?.self) { group in
                    group.addTask { try await transfer.value() }
                    group.addTask {
                        try await Task.sleep(for: Self.patience)
                        guard holding.isSet else {
                            throw StorageError.unavailable("no connection to PostgreSQL within \(Self.patience)")
                        }
                        return nil  // connected in time: the statements may take as long as they need
                    }
                    defer { group.cancelAll() }
                    while let result = try await group.next() {
                        if let value = result { return value }
                    }
                    throw StorageError.unavailable("no answer from PostgreSQL")
                }
            }
        } catch let error as PSQLError where error.code != .server {
            throw StorageError.unavailable("PostgreSQL connection lost (\(error.code))")
        } catch where String(describing: type(of: error)) == "ConnectionPoolError" {
            throw StorageError.unavailable("PostgreSQL unreachable (\(error))")
        }
    }

    func ping() async -> Bool {
        (try? await read { try await $0.raw("SELECT 1 AS one").first() }) != nil
    }

    func close() async {
        runner.cancel()
        _ = await runner.value
    }
}

/// Carries a closure into a child task of a task group. `@unchecked`: the group runs it in exactly
/// one child while the caller waits, and every child ends before the group returns, so the closure
/// is never used concurrently nor after `withoutActuallyEscaping` gives it back.
private struct NonSendableTransfer<T>: @unchecked Sendable {
    let value: () async throws -> T
    init(_ value: @escaping () async throws -> T) { self.value = value }
}

/// Set once a connection is held.
private final class LeaseFlag: Sendable {
    private let held = Mutex(false)
    func set() { held.withLock { $0 = true } }
    var isSet: Bool { held.withLock { $0 } }
}
