import ArgumentParser
import Foundation
import GatehouseApp
import Hummingbird
import Logging
import PortalCore

/// `gatehouse`: the server and its administration commands.
@main
struct GatehouseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "OAuth 2.0 and OpenID Connect server for a document-collaboration portal.",
        subcommands: [Serve.self, Migrate.self, Users.self, Keys.self, Sweep.self],
        defaultSubcommand: Serve.self
    )
}

/// Reads the configuration, or prints the one line naming the bad variable and exits non-zero.
func loadConfiguration() -> Configuration {
    do {
        return try Configuration.fromEnvironment()
    } catch {
        fail("\(error)")
    }
}

/// Prints `gatehouse: message` on standard error and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("gatehouse: \(message)\n".utf8))
    exit(1)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Migrate the database and serve the portal (settings from GATEHOUSE_* variables)."
    )

    func run() async throws {
        LoggingSystem.bootstrap { LineLogHandler(label: $0) }
        #if canImport(Glibc)
        MallocTuning.apply()
        #endif
        let configuration = loadConfiguration()
        let app: any ApplicationProtocol
        do {
            // Before anything is created: a port in use or a foreign address is one line naming the setting.
            try ListenAddress.check(host: configuration.host, port: configuration.port)
            app = try await buildApplication(configuration: configuration)
        } catch {
            fail("\(error)")
        }
        do {
            try await app.runService()
        } catch {
            // Another process took the port between the check and the bind.
            if let explained = ListenAddress.explain(error, host: configuration.host, port: configuration.port) { fail("\(explained)") }
            throw error
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    func run() async throws {
        let configuration = loadConfiguration()
        do {
            let database = try await openMigratedDatabase(configuration, logger: Logger(label: "gatehouse.migrate"))
            await database.close()
            print("Database is up to date.")
        } catch {
            fail("\(error)")
        }
    }
}

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage people.", subcommands: [Add.self, SetPassword.self])

    /// Runs `change` on the configured database (migrated first) and closes it; any error is the one
    /// line of `fail`.
    static func administer(_ change: (PeopleAdministration) async throws -> Person) async -> Person {
        let configuration = loadConfiguration()
        do {
            try await requireExistingPortal(configuration, logger: Logger(label: "gatehouse.users"))
            let database = try await openMigratedDatabase(configuration, logger: Logger(label: "gatehouse.users"))
            return try await database.closing {
                try await change(PeopleAdministration(database: database, bcryptCost: configuration.bcryptCost))
            }
        } catch {
            fail("\(error)")
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Give a person a new password (from --password, or the first line of standard input) and end their sessions."
        )

        @Option(help: "The person's sign-in email.") var email: String
        @Option(help: "The new password (8 to 1024 characters); read from standard input when left out.") var password: String?

        func run() async throws {
            let newPassword: String
            if let password {
                newPassword = password
            } else {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    fail("no new password: give --password, or the password as the first line of standard input")
                }
                newPassword = line
            }
            let person = await Users.administer { try await $0.setPassword(email: email, password: newPassword) }
            print("New password set for \(person.email); their sessions and portal tokens are ended.")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a person to the portal.")

        @Option(help: "Sign-in email.") var email: String
        @Option(help: "Password (8 to 1024 characters).") var password: String
        @Option(help: "owner, admin, user or guest.") var role: String = "user"
        @Option(name: .customLong("first-name"), help: "Given name.") var firstName: String = ""
        @Option(name: .customLong("last-name"), help: "Family name.") var lastName: String = ""

        func run() async throws {
            guard let role = Role(rawValue: role) else { fail("--role must be one of owner, admin, user, guest") }
            let person = await Users.administer {
                try await $0.add(email: email, password: password, role: role, firstName: firstName, lastName: lastName)
            }
            print("Added \(person.email) (\(person.role.rawValue)) with id \(person.id)")
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage signing keys.", subcommands: [Rotate.self, Reseal.self])

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the portal's secret key: seal the signing keys anew with the secret key the settings name now "
                + "(GATEHOUSE_SECRET_KEY, or secret.key in the data folder), opening them with GATEHOUSE_OLD_SECRET_KEY."
        )

        func run() async throws {
            let configuration = loadConfiguration()
            guard let old = ProcessInfo.processInfo.environment["GATEHOUSE_OLD_SECRET_KEY"], !old.isEmpty else {
                fail("GATEHOUSE_OLD_SECRET_KEY must hold the secret key the portal ran with (its GATEHOUSE_SECRET_KEY, or its secret.key)")
            }
            do {
                let logger = Logger(label: "gatehouse.keys")
                try await requireExistingPortal(configuration, logger: logger)
                let count = try await resealSigningKeys(configuration: configuration, oldSecret: old, logger: logger)
                print("Sealed \(count) signing key(s) with the new secret key; start every process with it.")
            } catch {
                fail("\(error)")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add new signing keys; old public keys stay published until the tokens they signed expire."
        )

        func run() async throws {
            let configuration = loadConfiguration()
            do {
                try await requireExistingPortal(configuration, logger: Logger(label: "gatehouse.keys"))
                try await rotateSigningKeys(configuration: configuration, logger: Logger(label: "gatehouse.keys"))
                print("New signing keys are active; every process picks them up within a second.")
            } catch {
                fail("\(error)")
            }
        }
    }
}

struct Sweep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one housekeeping sweep now (serve runs one every GATEHOUSE_SWEEP_INTERVAL seconds) and report it."
    )

    func run() async throws {
        let configuration = loadConfiguration()
        do {
            try await requireExistingPortal(configuration, logger: Logger(label: "gatehouse.sweep"))
            let report = try await sweepOnce(configuration: configuration, logger: Logger(label: "gatehouse.sweep"))
            guard report.swept else {
                print("Another process is sweeping; nothing done.")
                return
            }
            let deleted = report.deleted.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let milliseconds = Double(report.longestBatch.components.attoseconds) / 1e15 + Double(report.longestBatch.components.seconds) * 1000
            let deactivated = report.deactivated.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            print("Deleted \(deleted); deactivated \(deactivated); longest batch \(String(format: "%.1f", milliseconds)) ms.")
        } catch {
            fail("\(error)")
        }
    }
}

