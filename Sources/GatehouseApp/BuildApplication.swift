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
    let metrics = AppMetrics()
    let database: any Database = MeasuredDatabase(try await openMigratedDatabase(configuration, logger: logger), metrics: metrics)
    do {
        try await PeopleAdministration(database: database, bcryptCost: configuration.bcryptCost, clock: clock)
            .ensureOwner(email: configuration.adminEmail, password: configuration.adminPassword, announce: announce)
        let clock: any TimeSource = clock
        let authorization = SQLAuthorizationStore(database: database)
        let keys = KeyRing(store: SQLSigningKeyStore(database: database), secretKey: secretKey, clock: clock)
        try await keys.bootstrap()
        let revocations = RevocationSet()
        var dependencies = WebDependencies(
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
            metrics: metrics,
            clients: SQLClientStore(database: database, revocationHorizon: configuration.accessTokenLifetime),
            clientLimits: ClientLimits(perPortal: configuration.clientsPerPortal, perPerson: configuration.clientsPerPerson),
            publicURL: configuration.publicURL,
            authorization: authorization,
            keys: keys,
            revocations: revocations,
            accessTokenLifetime: configuration.accessTokenLifetime,
            codeLifetime: configuration.codeLifetime,
            refreshTokenLifetime: configuration.refreshTokenLifetime,
            directory: SQLPersonStore(database: database),
            files: SQLFileStore(database: database),
            maxUploadBytes: configuration.maxUploadBytes,
            clientsAPILimits: configuration.clientsAPILimits,
            tokenRequestsPerMinute: configuration.tokenRequestsPerMinute
        )
        dependencies.trustedProxies = configuration.trustedProxies
        dependencies.metricsAccess = MetricsAccess(token: configuration.metricsToken, trustedAddresses: configuration.metricsAddresses)
        let web = buildWeb(dependencies)
        try await web.poller.poll()
        return Application(
            router: web.router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [
                DatabaseService(database: database), PeriodicService.polling(web.poller, logger: logger),
                PeriodicService.housekeeping(SQLHousekeeping(database: database), interval: configuration.sweepInterval,
                                             metrics: metrics, clock: clock, logger: logger),
            ],
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

/// Runs `work` every `interval` until graceful shutdown; a failed round is logged (with the error's
/// type only: error values may carry input) and the next one comes as usual.
struct PeriodicService: Service {
    let interval: Duration
    let failure: Logger.Message
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                do {
                    try await work()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning(failure, metadata: ["error.type": "\(type(of: error))"])
                }
            }
        }
    }

    /// Polls the revocation feed and the signing keys every second (ARCHITECTURE.md, "State and scale").
    static func polling(_ poller: StatePoller, logger: Logger) -> PeriodicService {
        PeriodicService(interval: .seconds(1), failure: "could not read revocations and keys", logger: logger) {
            try await poller.poll()
        }
    }

    /// Housekeeping every `interval`: small batches, one sweeping process at a time on PostgreSQL.
    static func housekeeping(_ housekeeping: SQLHousekeeping, interval: TimeInterval, metrics: AppMetrics, clock: any TimeSource,
                             logger: Logger) -> PeriodicService {
        PeriodicService(interval: .seconds(interval), failure: "housekeeping failed; it runs again later", logger: logger) {
            let report = try await housekeeping.sweep(now: clock.now)
            guard report.swept else { return }
            metrics.housekeepingSwept(deleted: report.deleted, longestBatch: report.longestBatch)
            logger.debug("housekeeping swept", metadata: [
                "deleted": "\(report.deleted.values.reduce(0, +))", "longest_batch": "\(report.longestBatch)",
            ])
        }
    }
}

/// `gatehouse sweep`: one housekeeping pass now.
public func sweepOnce(configuration: Configuration, logger: Logger) async throws -> SQLHousekeeping.Report {
    let database = try await openMigratedDatabase(configuration, logger: logger)
    do {
        let report = try await SQLHousekeeping(database: database).sweep(now: Date())
        await database.close()
        return report
    } catch {
        await database.close()
        throw error
    }
}

/// `gatehouse keys rotate`: new signing keys for every process; the old public keys stay in the
/// JWKS until every token they signed has expired.
public func rotateSigningKeys(configuration: Configuration, logger: Logger) async throws {
    let secretKey = try SecretKeyFile.load(configuration: configuration)
    let database = try await openMigratedDatabase(configuration, logger: logger)
    do {
        let now = Date()
        try await KeyRing.rotateAll(
            store: SQLSigningKeyStore(database: database), secretKey: secretKey, now: now,
            publishOldUntil: TokenIssuer.everyTokenExpired(issuedAt: now, lifetime: configuration.accessTokenLifetime)
        )
        await database.close()
    } catch {
        await database.close()
        throw error
    }
}
