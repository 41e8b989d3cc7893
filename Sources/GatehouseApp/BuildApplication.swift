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
    let database = try await openConfiguredDatabase(configuration, logger: logger)
    let applied = try await migrate(database)
    if !applied.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(applied)"]) }
    return database
}

/// Opens the configured database without changing it, or names the setting that is wrong.
func openConfiguredDatabase(_ configuration: Configuration, logger: Logger) async throws -> any Database {
    do {
        return try await openDatabase(configuration.database, sqlite: configuration.sqlite, logger: logger)
    } catch let StorageError.unavailable(reason) where configuration.database.isSQLite {
        throw ConfigurationError(variable: DataFolder.sqliteSetting(configuration), reason: "cannot be used: \(reason)")
    } catch let StorageError.unavailable(reason) {
        throw ConfigurationError(variable: "GATEHOUSE_DATABASE_URL", reason: """
            cannot be reached (\(configuration.database)): \(reason); check that the database runs there and that the URL, \
            user and password are right
            """)
    } catch {
        throw ConfigurationError(variable: "GATEHOUSE_DATABASE_URL", reason: "cannot be opened (\(configuration.database)): \(error)")
    }
}

/// Refuses, naming the setting, when the configured database holds no Gatehouse yet: the
/// administration commands act on an existing portal, and run in the wrong folder they would
/// otherwise make a new one.
public func requireExistingPortal(_ configuration: Configuration, logger: Logger) async throws {
    let advice = "run the command where serve runs (the same GATEHOUSE_DATA_DIR or GATEHOUSE_DATABASE_URL), or start serve once first"
    if case .sqlite(let path) = configuration.database {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(variable: DataFolder.sqliteSetting(configuration), reason: "holds no Gatehouse database (\(path)): \(advice)")
        }
        return
    }
    let database = try await openConfiguredDatabase(configuration, logger: logger)
    let versions = try? await Migrator(database: database).appliedVersions()
    await database.close()
    if versions?.isEmpty ?? true {
        throw ConfigurationError(variable: "GATEHOUSE_DATABASE_URL", reason: "holds no Gatehouse database (\(configuration.database)): \(advice)")
    }
}

/// `gatehouse keys reseal`: the signing keys sealed with `oldSecret` (the previous GATEHOUSE_SECRET_KEY
/// or secret.key) are sealed anew with the secret key the settings name now, in one transaction;
/// answers how many were.
public func resealSigningKeys(configuration: Configuration, oldSecret: String, logger: Logger) async throws -> Int {
    try DataFolder.check(configuration)
    let secret = try SecretKeyFile.load(configuration: configuration)
    let database = try await openMigratedDatabase(configuration, logger: logger)
    return try await database.closing {
        let old = SymmetricKey(data: SHA256.hash(data: Data(oldSecret.trimmingCharacters(in: .whitespacesAndNewlines).utf8)))
        let count: Int
        do {
            count = try await KeyRing.reseal(store: SQLSigningKeyStore(database: database), from: old, to: secret.key, now: Date())
        } catch KeyResealError.oldKeyDoesNotOpen {
            throw ConfigurationError(
                variable: "GATEHOUSE_OLD_SECRET_KEY", reason: "opens not every stored signing key (nor does the new secret key): give the key the portal ran with"
            )
        }
        try secret.save()
        return count
    }
}

/// Applies the pending migrations and answers their versions; closes `database` when they fail
/// (unless the caller will).
func migrate(_ database: any Database, closingOnFailure: Bool = true) async throws -> [Int] {
    do {
        return try await Migrator(database: database).migrate()
    } catch {
        if closingOnFailure { await database.close() }
        throw ConfigurationError(variable: "GATEHOUSE_DATABASE_URL", reason: """
            cannot be migrated: \(StorageError.describe(error)); the database user needs to create tables (make it the \
            database's owner, or grant it CREATE on the schema)
            """)
    }
}

/// The database and the secret key of a process that signs. Every process of a portal needs the same
/// secret key: it must open the signing keys already stored, checked before anything is written;
/// then the schema is migrated and the first keys made (of processes starting together exactly one
/// makes them, and a process whose key does not open them refuses here, before it changes anything
/// else); only then is a newly made key file saved. Any failure leaves the data folder as it was and
/// the database at most migrated (SPEC §8).
func openSigningDatabase(_ configuration: Configuration, clock: any TimeSource, logger: Logger) async throws
    -> (database: any Database, secretKey: SymmetricKey, migrated: [Int])
{
    try DataFolder.check(configuration)
    let secret = try SecretKeyFile.load(configuration: configuration)
    let database = try await openConfiguredDatabase(configuration, logger: logger)
    let migrated: [Int]
    do {
        let keys = SQLSigningKeyStore(database: database)
        if try await Migrator(database: database).appliedVersions().contains(SQLSigningKeyStore.migrationVersion) {
            try await requireSecretKeyOpens(keys, secret.key, now: clock.now)
        }
        migrated = try await migrate(database, closingOnFailure: false)
        try await KeyRing.makeFirstKeys(store: keys, secretKey: secret.key, now: clock.now)
        try await requireSecretKeyOpens(keys, secret.key, now: clock.now)
        try secret.save()
    } catch {
        await database.close()
        throw error
    }
    return (database, secret.key, migrated)
}

/// Throws the `GATEHOUSE_SECRET_KEY` line unless `secretKey` opens every published signing key.
private func requireSecretKeyOpens(_ store: any SigningKeyStore, _ secretKey: SymmetricKey, now: Date) async throws {
    guard try await !KeyRing.secretKeyOpensStoredKeys(secretKey, store: store, now: now) else { return }
    throw ConfigurationError(variable: "GATEHOUSE_SECRET_KEY", reason: """
        does not open the signing keys stored in the database: every process of a portal needs the same secret key \
        (the same GATEHOUSE_SECRET_KEY, or the same secret.key in GATEHOUSE_DATA_DIR); to change it, run gatehouse keys reseal
        """)
}

/// The composition root: builds the whole server from a configuration. Tests call it too.
public func buildApplication(
    configuration: Configuration,
    clock: any TimeSource = SystemTime(),
    announce: @escaping @Sendable (String) -> Void = Console.announce
) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "gatehouse")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    let (opened, secretKey, migrated) = try await openSigningDatabase(configuration, clock: clock, logger: logger)
    let metrics = AppMetrics()
    let database: any Database = MeasuredDatabase(opened, metrics: metrics)
    do {
        try await PeopleAdministration(database: database, bcryptCost: configuration.bcryptCost, clock: clock)
            .ensureOwner(email: configuration.adminEmail, password: configuration.adminPassword, announce: announce)
        let clock: any TimeSource = clock
        let publicURL = configuration.publicURL
        let authorization = SQLAuthorizationStore(database: database)
        let keys = KeyRing(store: SQLSigningKeyStore(database: database), secretKey: secretKey, clock: clock)
        try await keys.reload()  // openSigningDatabase made the first keys
        let revocations = RevocationSet()
        let tokenIssuer = TokenIssuer(
            issuer: publicURL.absoluteString, accessTokenLifetime: configuration.accessTokenLifetime,
            developerTokenLifetime: configuration.developerTokenLifetime
        )
        // Revocations are remembered as long as the longest-lived access token (a developer token's may be longer).
        let revoker = Revoker(revocations: revocations, accessTokenLifetime: tokenIssuer.longestLifetime, clock: clock)
        let developerTokenStore = SQLDeveloperTokenStore(database: database)
        let developerTokens = DeveloperTokenIssuer(
            store: LocallyAppliedDeveloperTokenStore(inner: developerTokenStore, revoker: revoker), issuer: tokenIssuer
        )
        let tokenRevocations = TokenRevocations(store: authorization, developerTokens: developerTokenStore, keys: keys, revoker: revoker)
        let people = SQLPersonStore(database: database)
        let clientRows = SQLClientStore(database: database, revocationHorizon: tokenIssuer.longestLifetime)
        let clients = ClientCache(store: clientRows)
        let clientLimits = ClientLimits(perPortal: configuration.clientsPerPortal, perPerson: configuration.clientsPerPerson)
        let hasher = PasswordHasher(cost: configuration.bcryptCost)
        let signIn = SignInService(
            people: people, sessions: SQLSessionStore(database: database), failures: SQLSignInFailureStore(database: database),
            hasher: hasher, throttle: .standard, clock: clock, browserSessionLifetime: configuration.sessionLifetime,
            apiTokenLifetime: configuration.apiTokenLifetime
        )
        let pages = Pages(
            renderer: try await PageRenderer.load(), csrf: CSRFProtection(secretKey: secretKey, secureCookies: configuration.secureCookies)
        )
        let verifier = AccessTokenVerifier(keys: keys, revocations: revocations, issuer: publicURL, clock: clock)
        let cors = OAuthCORS(store: clients)
        let limiter = RateLimiter()

        // Who may call each route is declared where the route is registered, and checked by the
        // route table's gate for the route the router matched.
        let router = WebRouter.make(metrics: metrics, trustedProxies: configuration.trustedProxies)
        let apiKeys = APIKeyCache(store: SQLAPIKeyStore(database: database))
        let routes = Routes(
            router: router, signIn: signIn, verifier: verifier, people: people, apiKeys: apiKeys, pages: pages, cors: cors, clients: clients,
            limiter: limiter, clientsAPILimits: configuration.clientsAPILimits, clock: clock, publicURL: publicURL,
            metricsAccess: MetricsAccess(token: configuration.metricsToken, trustedAddresses: configuration.metricsAddresses)
        )
        AuthorizationServerFeature(
            issuer: publicURL, keys: keys, clients: clients, authorization: authorization, people: people, revoker: revoker,
            signIn: signIn, pages: pages, verifier: verifier, cors: cors, limiter: limiter, metrics: metrics, clock: clock,
            lifetimes: .init(code: configuration.codeLifetime, refreshToken: configuration.refreshTokenLifetime),
            tokenIssuer: tokenIssuer, developerTokens: developerTokens, tokenRevocations: tokenRevocations,
            offersMCP: configuration.mcpServer,
            registration: .init(policy: configuration.dynamicRegistration, attemptsPerHour: configuration.registrationsPerHour,
                                limits: clientLimits, store: clients, throttle: clientRows),
            documents: try configuration.clientMetadataDocuments ? ClientMetadataDocuments(
                store: clients, throttle: clientRows,
                fetcher: OutboundFetcher(allowPrivate: configuration.outboundAllowPrivate, caFile: configuration.outboundCAFile,
                                         maximumBytes: ClientMetadataDocument.maximumSize),
                limits: clientLimits, fetchesPerHour: configuration.registrationsPerHour, clock: clock
            ) : nil,
            tokenRequestsPerMinute: configuration.tokenRequestsPerMinute, secretKey: secretKey
        ).register(on: routes)
        let files = SQLFileStore(database: database)
        let uploadBudget = BodyBudget(capacity: configuration.uploadBudgetBytes, onEmpty: MallocTuning.giveBackSoon)
        PortalAPIFeature(
            people: people, directory: people, files: files, hasher: hasher, signIn: signIn, revoker: revoker,
            maxUploadBytes: configuration.maxUploadBytes,
            uploadBudget: uploadBudget, clock: clock
        ).register(on: routes)
        if configuration.mcpServer {
            MCPFeature(people: people, directory: people, files: files, clients: clients, maxUploadBytes: configuration.maxUploadBytes,
                       budget: uploadBudget, publicURL: publicURL, clock: clock).register(on: routes)
        }
        DeveloperToolsFeature(
            clients: clients, limits: clientLimits,
            consents: authorization, revoker: revoker, pages: pages, publicURL: publicURL, apiKeys: apiKeys,
            apiKeysPerPerson: configuration.apiKeysPerPerson, once: SQLOnceStore(database: database), secretKey: secretKey,
            developerTokens: developerTokens, tokenRevocations: tokenRevocations, keys: keys, people: people, clock: clock
        ).register(on: routes)
        SignInFeature(signIn: signIn, pages: pages, clients: clients).register(on: routes)
        OperationsFeature(database: database, metrics: metrics).register(on: routes)
        routes.finish()

        // Keeps this process's caches (revocations, keys, apps) in step with the database.
        let poller = StatePoller(grants: authorization, revocations: revocations, keys: keys, clients: clients, clock: clock)
        try await poller.poll()
        if !migrated.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(migrated)"]) }
        if configuration.bcryptCost < PasswordHasher.defaultCost {
            logger.warning("GATEHOUSE_BCRYPT_COST is below 10, OWASP's minimum: passwords are re-hashed with it at each sign-in", metadata: [
                "bcrypt_cost": "\(configuration.bcryptCost)",
            ])
        }
        let serving = "Gatehouse serving \(publicURL.absoluteString) on \(configuration.host):\(configuration.port)"
        return Application(
            router: router,
            // Deadlines for idle connections, request heads and bodies, header limits, and connections
            // closed for real after an answer that ends them (Hummingbird's default is no timeout at all).
            server: .gatehouse(configuration.connectionLimits),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [
                DatabaseService(database: database), PeriodicService.polling(poller, logger: logger),
                PeriodicService.housekeeping(SQLHousekeeping(database: database), interval: configuration.sweepInterval,
                                             metrics: metrics, clock: clock, logger: logger),
            ],
            // Said once the socket listens, never before (a bind that fails is the GATEHOUSE_PORT line).
            onServerRunning: { _ in announce(serving) },
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
    return try await database.closing { try await SQLHousekeeping(database: database).sweep(now: Date()) }
}

/// `gatehouse keys rotate`: new signing keys for every process; the old public keys stay in the
/// JWKS until every token they signed has expired.
public func rotateSigningKeys(configuration: Configuration, logger: Logger) async throws {
    let (database, secretKey, _) = try await openSigningDatabase(configuration, clock: SystemTime(), logger: logger)
    try await database.closing {
        let now = Date()
        try await KeyRing.rotateAll(
            store: SQLSigningKeyStore(database: database), secretKey: secretKey, now: now,
            publishOldUntil: TokenIssuer.everyTokenExpired(issuedAt: now, lifetime: configuration.longestTokenLifetime)
        )
    }
}
