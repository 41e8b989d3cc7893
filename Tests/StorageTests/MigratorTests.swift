import Foundation
import GatehouseTestSupport
import SQLKit
import Storage
import Testing

@Suite struct MigratorTests {
    @Test(arguments: TestDatabaseKind.available)
    func appliesEveryMigrationOnceAndInOrder(kind: TestDatabaseKind) async throws {
        let scratch = try await ScratchDatabase.make(kind)
        let (first, second, versions) = try await scratch.inspect { database in
            let migrator = Migrator(database: database)
            return (try await migrator.migrate(), try await migrator.migrate(), try await migrator.appliedVersions())
        }
        await scratch.remove()
        #expect(first == Migrator.all.map(\.version))
        #expect(second.isEmpty)
        #expect(versions == Migrator.all.map(\.version))
    }

    @Test(arguments: TestDatabaseKind.available)
    func aSecondOpenerFindsNothingToDo(kind: TestDatabaseKind) async throws {
        let scratch = try await ScratchDatabase.make(kind)
        let first = try await scratch.inspect { try await Migrator(database: $0).migrate() }
        let second = try await scratch.inspect { try await Migrator(database: $0).migrate() }
        await scratch.remove()
        #expect(first == Migrator.all.map(\.version))
        #expect(second.isEmpty)
    }

    @Test(arguments: TestDatabaseKind.available)
    func aFailingMigrationLeavesNothingBehind(kind: TestDatabaseKind) async throws {
        let broken = Migration(version: 999, name: "broken") { _ in
            ["CREATE TABLE half_done (id TEXT PRIMARY KEY)", "THIS IS NOT SQL"]
        }
        try await withScratchDatabase(kind) { database, _ in
            await #expect(throws: (any Error).self) {
                try await Migrator(database: database, migrations: Migrator.all + [broken]).migrate()
            }
            let versions = try await Migrator(database: database).appliedVersions()
            #expect(!versions.contains(999))
            // The table from the failed migration's first statement was rolled back with it.
            await #expect(throws: (any Error).self) {
                try await database.read { try await $0.raw("SELECT id FROM half_done").all() }
            }
        }
    }

    /// Several processes on one PostgreSQL may start together; SQLite serves one process (a second
    /// opener, such as `gatehouse migrate` beside `serve`, runs after it: see the next test).
    @Test(arguments: TestDatabaseKind.available.filter { $0 == .postgres })
    func processesMigratingTogetherTakeTurns(kind: TestDatabaseKind) async throws {
        let scratch = try await ScratchDatabase.make(kind)
        let one = try await scratch.open(migrated: false)
        let two = try await scratch.open(migrated: false)
        let outcome = await Result(catching: {
            async let a = Migrator(database: one).migrate()
            async let b = Migrator(database: two).migrate()
            return try await (a, b)
        })
        let versions = await Result(catching: { try await Migrator(database: one).appliedVersions() })
        await one.close()
        await two.close()
        await scratch.remove()
        let (appliedByOne, appliedByTwo) = try outcome.get()
        #expect((appliedByOne + appliedByTwo).sorted() == Migrator.all.map(\.version))
        #expect(try versions.get() == Migrator.all.map(\.version))
    }
}

@Suite struct DatabaseLocationTests {
    @Test func parsesPostgresURLs() throws {
        let location = try #require(PostgresLocation(url: "postgres://app:s%40cret@db.internal:6543/portal?sslmode=require"))
        #expect(location.host == "db.internal")
        #expect(location.port == 6543)
        #expect(location.username == "app")
        #expect(location.password == "s@cret")
        #expect(location.database == "portal")
        #expect(location.requiresTLS)
        #expect(!location.description.contains("s@cret"))
    }

    @Test(arguments: ["postgres://", "mysql://a@b/c", "postgres://a@b/c?sslmode=bogus", "", "http://x"])
    func refusesWhatIsNotADatabase(url: String) {
        #expect(DatabaseLocation.parse(url) == nil)
    }

    @Test func sqliteForms() {
        #expect(DatabaseLocation.parse("sqlite:///var/lib/gh.sqlite") == .sqlite(path: "/var/lib/gh.sqlite"))
        #expect(DatabaseLocation.parse("data/gh.sqlite") == .sqlite(path: "data/gh.sqlite"))
    }
}

extension Result where Failure == any Error {
    /// Captures the outcome of an async throwing body.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
