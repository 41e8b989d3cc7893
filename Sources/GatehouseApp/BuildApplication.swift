import Crypto
import Foundation
import Hummingbird
import Logging
import OAuthCore
import PortalCore
import ServiceLifecycle
import Storage
import Web

/// Opens the database named by the configuration and brings its schema up to date.
/// Failures are `ConfigurationError`s naming `GATEHOUSE_DATABASE_URL`.
public func openMigratedDatabase(_ configuration: Configuration, logger: Logger) async throws -> any Database {
    let database: any Database
    do {
        database = try await openDatabase(configuration.database, logger: logger)
    } catch {
        throw ConfigurationError(variable: "GATEHOUSE_DATABASE_URL", reason: "cannot be opened (\(configuration.database)): \(error)")
    }
    do {
        let applied = try await Migrator(database: database).migrate()
        if !applied.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(applied)"]) }
    } catch {
        await database.close()
        throw ConfigurationError(variable: "GATEHOUSE_DATABASE_URL", reason: "migrations failed: \(String(reflecting: error).prefix(300))")
    }
    return database
}

/// The composition root: builds the whole server from a configuration. Tests call it too.
public func buildApplication(
    configuration: Configuration,
    clock: any TimeSource = SystemTime(),
    announce: @escaping @Sendable (String) -> Void = { print($0) }
) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "gatehouse")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    let secretKey = try SecretKeyFile.load(configuration: configuration)
    let database = try await openMigratedDatabase(configuration, logger: logger)
    do {
        try await PeopleAdministration(database: database, bcryptCost: configuration.bcryptCost, clock: clock)
            .ensureOwner(email: configuration.adminEmail, password: configuration.adminPassword, announce: announce)
        let dependencies = WebDependencies(
            database: database,
            people: SQLPersonStore(database: database),
            sessions: SQLSessionStore(database: database),
            signInFailures: SQLSignInFailureStore(database: database),
            passwordHasher: PasswordHasher(cost: configuration.bcryptCost),
            signInThrottle: .standard,
            clock: clock,
            secretKey: secretKey,
            secureCookies: configuration.secureCookies,
            browserSessionLifetime: configuration.sessionLifetime,
            apiTokenLifetime: configuration.apiTokenLifetime,
            pages: try await PageRenderer.load(),
            metrics: AppMetrics(),
            clients: SQLClientStore(database: database),
            clientLimits: ClientLimits(perPortal: configuration.clientsPerPortal, perPerson: configuration.clientsPerPerson),
            publicURL: configuration.publicURL
        )
        let router = buildRouter(dependencies)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [DatabaseService(database: database)],
            logger: logger
        )
    } catch {
        await database.close()
        throw error
    }
}

/// Keeps the database open while the server runs and closes it after the server has stopped
/// (services shut down in reverse order, and the HTTP server is added after this one).
struct DatabaseService: Service {
    let database: any Database

    func run() async throws {
        try? await gracefulShutdown()
        await database.close()
    }
}
