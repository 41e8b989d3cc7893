import Foundation
import Logging
import SQLKit
import SQLiteKit

/// SQLite in WAL mode: one writer connection (`BEGIN IMMEDIATE`) and a pool of readers.
final class SQLiteDatabaseStore: Database {
    let flavor = SQLFlavor.sqlite
    private let writer: ResourcePool<SQLiteConnection>
    private let readers: ResourcePool<SQLiteConnection>
    private let readerCount: Int

    private init(writer: SQLiteConnection, readers: [SQLiteConnection]) {
        self.writer = ResourcePool([writer])
        self.readers = ResourcePool(readers)
        self.readerCount = readers.count
    }

    static func open(path: String, readerCount: Int = 4, logger: Logger) async throws -> SQLiteDatabaseStore {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError.unavailable("cannot create folder \(directory): \(error.localizedDescription)")
        }
        var opened: [SQLiteConnection] = []
        do {
            for index in 0...readerCount {
                let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                opened.append(connection)
                let sql = connection.sql(queryLogLevel: nil)
                try await sql.raw("PRAGMA busy_timeout = 5000").run()
                if index == 0 {
                    _ = try await sql.raw("PRAGMA journal_mode = WAL").all()
                }
                try await sql.raw("PRAGMA synchronous = NORMAL").run()
                try await sql.raw("PRAGMA foreign_keys = ON").run()
            }
        } catch {
            for connection in opened { try? await connection.close() }
            throw StorageError.unavailable("cannot open SQLite file \(path): \(error)")
        }
        return SQLiteDatabaseStore(writer: opened[0], readers: Array(opened.dropFirst()))
    }

    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await readers.with { connection in try await body(connection.sql(queryLogLevel: nil)) }
    }

    func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await writer.with { connection in
            let sql = connection.sql(queryLogLevel: nil)
            try await sql.raw("BEGIN IMMEDIATE").run()
            do {
                let value = try await body(sql)
                try await sql.raw("COMMIT").run()
                return value
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    func ping() async -> Bool {
        (try? await read { try await $0.raw("SELECT 1 AS one").first() }) != nil
    }

    func close() async {
        let writers = await writer.drain(count: 1)
        let all = writers + (await readers.drain(count: readerCount))
        for connection in all { try? await connection.close() }
    }
}
