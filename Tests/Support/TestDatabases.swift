import Foundation
import Logging
import Storage

/// The databases every storage contract runs on: an SQLite file always, and PostgreSQL when
/// `GATEHOUSE_TEST_DATABASE_URL` names a server (CI sets it).
public enum TestDatabaseKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// A fresh SQLite file in a temporary folder.
    case sqlite
    /// A fresh database on the PostgreSQL server of `GATEHOUSE_TEST_DATABASE_URL`.
    case postgres

    /// The kinds available on this machine.
    public static var available: [TestDatabaseKind] {
        postgresServer == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    /// The PostgreSQL server to test on, if any.
    public static var postgresServer: PostgresLocation? {
        ProcessInfo.processInfo.environment["GATEHOUSE_TEST_DATABASE_URL"].flatMap { PostgresLocation(url: $0) }
    }

    public var description: String { rawValue }
}

/// A clean database made for one test, removed afterwards.
public struct ScratchDatabase: Sendable {
    /// Where it is.
    public let location: DatabaseLocation
    /// A folder of its own (for the SQLite file, key files and the like).
    public let folder: String
    private let cleanup: @Sendable () async -> Void

    /// Makes a new, empty database of `kind`.
    public static func make(_ kind: TestDatabaseKind) async throws -> ScratchDatabase {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatehouse-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let removeFolder: @Sendable () -> Void = { try? FileManager.default.removeItem(atPath: folder) }
        switch kind {
        case .sqlite:
            return ScratchDatabase(
                location: .sqlite(path: folder + "/gatehouse.sqlite"), folder: folder, cleanup: removeFolder
            )
        case .postgres:
            guard let server = TestDatabaseKind.postgresServer else { throw StorageError.unavailable("no test server") }
            let name = "gh_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
            let admin = try await openDatabase(.postgres(server), logger: Logger(label: "test"))
            _ = try await admin.read { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").all() }
            await admin.close()
            var location = server
            location.database = name
            return ScratchDatabase(location: .postgres(location), folder: folder) {
                removeFolder()
                if let admin = try? await openDatabase(.postgres(server), logger: Logger(label: "test")) {
                    _ = try? await admin.read { try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").all() }
                    await admin.close()
                }
            }
        }
    }

    /// Opens a connection to the scratch database (migrated when `migrated`).
    public func open(migrated: Bool = true) async throws -> any Database {
        let database = try await openDatabase(location, logger: Logger(label: "test"))
        if migrated { try await Migrator(database: database).migrate() }
        return database
    }

    /// Runs `body` on a connection of its own (not migrated again), always closing it.
    public func inspect<T: Sendable>(_ body: (any Database) async throws -> T) async throws -> T {
        let database = try await open(migrated: false)
        return try await database.closing { try await body(database) }
    }

    /// Removes the database and its folder.
    public func remove() async { await cleanup() }
}

/// Runs `body` with a fresh migrated database of `kind`, closing and removing it afterwards.
public func withScratchDatabase<T: Sendable>(
    _ kind: TestDatabaseKind, _ body: (any Database, ScratchDatabase) async throws -> T
) async throws -> T {
    let scratch = try await ScratchDatabase.make(kind)
    let database: any Database
    do {
        database = try await scratch.open()
    } catch {
        await scratch.remove()
        throw error
    }
    do {
        let value = try await body(database, scratch)
        await database.close()
        await scratch.remove()
        return value
    } catch {
        await database.close()
        await scratch.remove()
        throw error
    }
}
