import Foundation
import Logging
import NIOSSL
import PostgresKit
import SQLKit

/// PostgreSQL through postgres-nio's connection pool; the pool runs in a task owned by this value.
final class PostgresDatabaseStore: Database {
    let flavor = SQLFlavor.postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

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
        try await client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: nil, logger: logger))
        }
    }

    func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let sql = connection.sql(queryLogLevel: nil, logger: logger)
            try await sql.raw("BEGIN").run()
            return try await commitOrRollBack(sql, body)
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
