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
    /// Whether the server is away, as the watcher (and lost connections) last found.
    private let outage = SharedFlag()
    /// Pings the server every second on a connection of its own (see `watch`).
    private let watcher: Task<Void, Never>

    private init(client: PostgresClient, location: PostgresLocation, logger: Logger) {
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
        self.watcher = Self.watch(location, outage: outage, logger: logger)
    }

    /// Watches the server on one connection outside the pool: the pool, when the server goes away,
    /// keeps reconnecting and lets requests wait, so it cannot tell. A definite connection failure
    /// marks the server away (requests are answered 503 at once); a successful ping marks it back.
    /// Slowness alone changes nothing, so a busy server never turns into 503s.
    static func watch(_ location: PostgresLocation, outage: SharedFlag, logger: Logger) -> Task<Void, Never> {
        Task {
            let configuration = singleConnection(location, connectTimeout: .seconds(2))
            var connection: PostgresConnection?
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                do {
                    if connection == nil || connection?.isClosed == true {
                        connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                    }
                    _ = try await connection?.query("SELECT 1", logger: logger).collect()
                    outage.set(false)
                } catch let error as PSQLError where error.code != .server {
                    try? await connection?.close()
                    connection = nil
                    outage.set(true)
                } catch {
                    try? await connection?.close()
                    connection = nil
                }
            }
            try? await connection?.close()
        }
    }

    /// A connection of its own to `location`, outside the pool.
    static func singleConnection(_ location: PostgresLocation, connectTimeout: TimeAmount) -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: .disable
        )
        if location.requiresTLS, let context = try? NIOSSLContext(configuration: .makeClientConfiguration()) {
            configuration.tls = .require(context)
        }
        configuration.options.connectTimeout = connectTimeout
        return configuration
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
        let store = PostgresDatabaseStore(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), location: location, logger: logger
        )
        // Fail the start at once, with the server's own words, when the database cannot be reached:
        // one connection of its own (the pool would keep retrying and let the query wait). A server
        // that answers slowly is waited for; only a definite failure stops the start.
        do {
            let connection = try await PostgresConnection.connect(
                configuration: singleConnection(location, connectTimeout: .seconds(5)), id: 0, logger: logger)
            do {
                _ = try await connection.query("SELECT 1", logger: logger).collect()
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            await store.close()
            throw StorageError.unavailable(Self.describe(error))
        }
        return store
    }

    /// One line for the operator: the server's own words, or what the connection met.
    static func describe(_ error: any Error) -> String {
        if let failure = error as? PSQLError {
            if let message = failure.serverInfo?[.message] {
                return "the server says: " + message.split(whereSeparator: \.isNewline).joined(separator: " ")
            }
            if let underlying = failure.underlying { return describe(underlying) }
        }
        let text = String(reflecting: error)
        let clues = [("connection refused", "connection refused"), ("connecttimeout", "no answer in 5 seconds"),
                     ("network is unreachable", "network unreachable"), ("no route to host", "no route to host"),
                     ("unknownhost", "the host name is not known"), ("sslunavailable", "the server offers no TLS (sslmode=require)"),
                     ("tls", "the TLS handshake failed")]
        if let (_, said) = clues.first(where: { text.lowercased().contains($0.0) }) { return said }
        return String(text.prefix(200)).replacingOccurrences(of: "\n", with: " ")
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

    /// Runs `operation` (which calls `leased` once it holds a connection) and answers 503
    /// (`StorageError.unavailable`) instead of letting a request wait while the server is away: at once
    /// when the watcher knows it is away, and as soon as it finds out for a request already waiting
    /// for a connection. Once connected, statements take as long as they need (a migration may wait
    /// for its lock). Lost connections become 503 too; errors the server reports about a statement and
    /// the caller's own errors pass through.
    private func failingFast<T: Sendable>(_ operation: (_ leased: @escaping @Sendable () -> Void) async throws -> T) async throws -> T {
        guard !outage.isSet else { throw StorageError.unavailable("PostgreSQL is unreachable") }
        let holding = SharedFlag()
        let leased: @Sendable () -> Void = { holding.set() }
        let outage = self.outage
        do {
            return try await withoutActuallyEscaping(operation) { operation in
                let transfer = NonSendableTransfer { try await operation(leased) }
                return try await withThrowingTaskGroup(of: T?.self) { group in
                    group.addTask { try await transfer.value() }
                    group.addTask {
                        while !holding.isSet {
                            if outage.isSet { throw StorageError.unavailable("PostgreSQL is unreachable") }
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        return nil  // connected: the statements may take as long as they need
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
        watcher.cancel()
        _ = await watcher.value
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

/// A yes/no shared between tasks: whether the server is away (the watcher and every operation), or
/// whether an operation holds its connection yet.
final class SharedFlag: Sendable {
    private let value = Mutex(false)
    func set(_ newValue: Bool = true) { value.withLock { $0 = newValue } }
    var isSet: Bool { value.withLock { $0 } }
}
