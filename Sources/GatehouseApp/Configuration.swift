import Foundation
import OAuthCore
import PortalCore
import Storage
import Web

/// Every setting of Gatehouse, read once from the environment into one typed value.
/// `description` never shows a password or the secret key.
public struct Configuration: Sendable, CustomStringConvertible {
    /// The issuer and the base of every absolute URL (`GATEHOUSE_PUBLIC_URL`).
    public var publicURL: URL
    /// Address to listen on (`GATEHOUSE_HOST`).
    public var host: String
    /// Port to listen on (`GATEHOUSE_PORT`).
    public var port: Int
    /// Folder for the SQLite file and the key file (`GATEHOUSE_DATA_DIR`).
    public var dataDirectory: String
    /// The database (`GATEHOUSE_DATABASE_URL`).
    public var database: DatabaseLocation
    /// Whether `GATEHOUSE_DATABASE_URL` was given (else the SQLite file in the data folder).
    public var databaseWasGiven: Bool
    /// How the SQLite file is kept: how a commit is made durable (`GATEHOUSE_SQLITE_SYNCHRONOUS`: `full`,
    /// the default, or `normal`) and the size past which its log is cut back (`GATEHOUSE_WAL_LIMIT_BYTES`).
    public var sqlite: SQLiteOptions
    /// The owner's email on first start (`GATEHOUSE_ADMIN_EMAIL`).
    public var adminEmail: String?
    /// The owner's password on first start (`GATEHOUSE_ADMIN_PASSWORD`).
    public var adminPassword: String?
    /// The secret key as given (`GATEHOUSE_SECRET_KEY`); `nil` means the key file in the data folder.
    public var secretKey: String?
    /// bcrypt work factor for passwords (`GATEHOUSE_BCRYPT_COST`).
    public var bcryptCost: UInt8
    /// Browser session lifetime in seconds (`GATEHOUSE_SESSION_TTL`).
    public var sessionLifetime: TimeInterval
    /// Portal API token lifetime in seconds (`GATEHOUSE_API_TOKEN_TTL`).
    public var apiTokenLifetime: TimeInterval
    /// How many apps the portal may have (`GATEHOUSE_CLIENTS_PER_PORTAL`).
    public var clientsPerPortal: Int
    /// How many apps one person may register (`GATEHOUSE_CLIENTS_PER_PERSON`).
    public var clientsPerPerson: Int
    /// How many API keys one person may have (`GATEHOUSE_API_KEYS_PER_PERSON`, 50 by default).
    public var apiKeysPerPerson: Int
    /// Access and ID token lifetime in seconds (`GATEHOUSE_ACCESS_TOKEN_TTL`).
    public var accessTokenLifetime: TimeInterval
    /// Who may register an app by itself (`GATEHOUSE_DYNAMIC_REGISTRATION`: off, native (default) or open; SPEC §6).
    public var dynamicRegistration: DynamicRegistrationPolicy
    /// Whether the MCP server at `/mcp` is offered (`GATEHOUSE_MCP`: on (default) or off; SPEC §6).
    public var mcpServer: Bool
    /// Whether apps known by a Client ID Metadata Document are taken (`GATEHOUSE_CLIENT_METADATA_DOCUMENTS`:
    /// on (default) or off; SPEC §6).
    public var clientMetadataDocuments: Bool
    /// Whether outbound fetches may reach private, loopback and link-local addresses
    /// (`GATEHOUSE_OUTBOUND_ALLOW_PRIVATE=1`; off by default: only public internet addresses).
    public var outboundAllowPrivate: Bool
    /// PEM certificates trusted for outbound fetches besides the system's (`GATEHOUSE_OUTBOUND_CA_FILE`).
    public var outboundCAFile: String?
    /// Registration attempts per client address and hour (`GATEHOUSE_REGISTRATIONS_PER_HOUR`, 20 by default).
    public var registrationsPerHour: Int
    /// Developer token lifetime in seconds (`GATEHOUSE_DEVELOPER_TOKEN_TTL`, 3600 by default as DocSpace's; SPEC §7).
    public var developerTokenLifetime: TimeInterval
    /// The longest any access token lives: how long revocations and retired signing keys are kept.
    public var longestTokenLifetime: TimeInterval { max(accessTokenLifetime, developerTokenLifetime) }
    /// Authorization code lifetime in seconds (`GATEHOUSE_CODE_TTL`).
    public var codeLifetime: TimeInterval
    /// Refresh token lifetime in seconds (`GATEHOUSE_REFRESH_TOKEN_TTL`).
    public var refreshTokenLifetime: TimeInterval
    /// Largest file an upload may carry, in bytes (`GATEHOUSE_MAX_UPLOAD_BYTES`, 25 MB by default).
    public var maxUploadBytes: Int
    /// Bytes of upload bodies held in memory at once (`GATEHOUSE_UPLOAD_BUDGET_BYTES`, 256 MiB by
    /// default, at least `GATEHOUSE_MAX_UPLOAD_BYTES`); over it an upload waits up to 5 s, then 503.
    public var uploadBudgetBytes: Int
    /// Per person and minute on the clients API, in each process: POSTs, changes (PUT/PATCH/DELETE)
    /// and reads (`GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE`, `…_CHANGES_PER_MINUTE`, `…_READS_PER_MINUTE`).
    public var clientsAPILimits: ClientsAPILimits
    /// Token requests per app and minute, in each process (`GATEHOUSE_TOKEN_REQUESTS_PER_MINUTE`).
    public var tokenRequestsPerMinute: Int
    /// Reverse proxies whose `X-Forwarded-For` names the client (`GATEHOUSE_TRUSTED_PROXIES`, comma-separated addresses).
    public var trustedProxies: Set<String>
    /// The bearer token that may read `/metrics` from any address (`GATEHOUSE_METRICS_TOKEN`).
    public var metricsToken: String?
    /// Addresses that may read `/metrics` without it (`GATEHOUSE_METRICS_ADDRESSES`, comma-separated; loopback by default).
    public var metricsAddresses: Set<String>
    /// How long a client may take, in seconds: idle between requests (`GATEHOUSE_IDLE_TIMEOUT`, 60), to
    /// send a request head from its first byte (`GATEHOUSE_HEAD_TIMEOUT`, 10), to pause within a body
    /// (`GATEHOUSE_BODY_TIMEOUT`, 30) and to send a whole body (`GATEHOUSE_BODY_TOTAL_TIMEOUT`, 300).
    public var connectionLimits: ConnectionLimits
    /// Seconds between housekeeping sweeps (`GATEHOUSE_SWEEP_INTERVAL`).
    public var sweepInterval: TimeInterval
    /// Log level (`GATEHOUSE_LOG_LEVEL`).
    public var logLevel: String

    /// Cookies are `Secure` when the public URL is https.
    public var secureCookies: Bool { publicURL.scheme == "https" }

    /// Reads the settings from `environment`, or names the first variable that is wrong.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Configuration
    {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(name) else { return fallback }
            guard let number = Int(raw), range.contains(number) else {
                throw ConfigurationError(variable: name, reason: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        func list(_ text: String) -> Set<String> {
            Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        func onOff(_ name: String, default fallback: Bool) throws -> Bool {
            guard let text = value(name) else { return fallback }
            switch text.lowercased() {
            case "on", "1", "true": return true
            case "off", "0", "false": return false
            default: throw ConfigurationError(variable: name, reason: "must be on or off")
            }
        }
        func dynamicRegistration() throws -> DynamicRegistrationPolicy {
            guard let text = value("GATEHOUSE_DYNAMIC_REGISTRATION") else { return .native }
            guard let policy = DynamicRegistrationPolicy(rawValue: text.lowercased()) else {
                throw ConfigurationError(variable: "GATEHOUSE_DYNAMIC_REGISTRATION", reason: "must be off, native or open")
            }
            return policy
        }
        func outboundCAFile() throws -> String? {
            guard let path = value("GATEHOUSE_OUTBOUND_CA_FILE") else { return nil }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(variable: "GATEHOUSE_OUTBOUND_CA_FILE", reason: "must name a readable PEM file (\(path) is not)")
            }
            return path
        }
        func metricsToken() throws -> String? {
            guard let token = value("GATEHOUSE_METRICS_TOKEN") else { return nil }
            guard token.utf8.count >= 16 else { throw ConfigurationError(variable: "GATEHOUSE_METRICS_TOKEN", reason: "must be at least 16 characters") }
            return token
        }

        let publicText = value("GATEHOUSE_PUBLIC_URL") ?? "http://127.0.0.1:8080"
        guard let publicURL = URL(string: publicText.hasSuffix("/") ? String(publicText.dropLast()) : publicText),
              let scheme = publicURL.scheme, scheme == "http" || scheme == "https",
              let host = publicURL.host, !host.isEmpty,
              publicURL.query == nil, publicURL.fragment == nil
        else {
            throw ConfigurationError(variable: "GATEHOUSE_PUBLIC_URL", reason: "must be an absolute http(s) URL such as https://portal.example.com")
        }
        let port = try integer("GATEHOUSE_PORT", default: 8080, range: 1...65535)
        var dataDirectory = value("GATEHOUSE_DATA_DIR") ?? "./data"
        while dataDirectory.count > 1, dataDirectory.hasSuffix("/") { dataDirectory.removeLast() }
        let database: DatabaseLocation
        if let url = value("GATEHOUSE_DATABASE_URL") {
            guard let parsed = DatabaseLocation.parse(url) else {
                throw ConfigurationError(
                    variable: "GATEHOUSE_DATABASE_URL",
                    reason: "must be postgres://user:password@host:port/database or sqlite:///path/to/file.sqlite"
                )
            }
            database = parsed
        } else {
            database = .sqlite(path: (dataDirectory as NSString).appendingPathComponent("gatehouse.sqlite"))
        }
        if let secret = value("GATEHOUSE_SECRET_KEY"), secret.count < 32 {
            throw ConfigurationError(variable: "GATEHOUSE_SECRET_KEY", reason: "must be at least 32 characters (for example 32 random bytes in base64)")
        }
        let synchronousText = value("GATEHOUSE_SQLITE_SYNCHRONOUS")?.lowercased() ?? SQLiteSynchronous.full.rawValue
        guard let sqliteSynchronous = SQLiteSynchronous(rawValue: synchronousText) else {
            throw ConfigurationError(
                variable: "GATEHOUSE_SQLITE_SYNCHRONOUS",
                reason: "must be full (every commit survives a power cut) or normal (faster; the last commits may not)"
            )
        }
        // The owner made on first start: refused here, before anything is created, rather than after.
        if let email = value("GATEHOUSE_ADMIN_EMAIL"), !EmailAddress.isPlausible(email.lowercased()) {
            throw ConfigurationError(variable: "GATEHOUSE_ADMIN_EMAIL", reason: "must be an email address such as owner@example.com")
        }
        if let password = value("GATEHOUSE_ADMIN_PASSWORD"), !NewPerson.isAcceptablePassword(password) {
            throw ConfigurationError(
                variable: "GATEHOUSE_ADMIN_PASSWORD",
                reason: "must be \(NewPerson.minimumPasswordLength) to \(NewPerson.maximumPasswordLength) characters"
            )
        }
        let maxUploadBytes = try integer("GATEHOUSE_MAX_UPLOAD_BYTES", default: 25 * 1024 * 1024, range: 1...1_073_741_824)
        let uploadBudgetBytes = try integer("GATEHOUSE_UPLOAD_BUDGET_BYTES", default: 256 * 1024 * 1024, range: 1...(1 << 40))
        guard uploadBudgetBytes >= maxUploadBytes else {
            throw ConfigurationError(
                variable: "GATEHOUSE_UPLOAD_BUDGET_BYTES",
                reason: "must be at least GATEHOUSE_MAX_UPLOAD_BYTES (\(maxUploadBytes)), or no upload of the largest size could be read"
            )
        }
        let level = value("GATEHOUSE_LOG_LEVEL") ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw ConfigurationError(variable: "GATEHOUSE_LOG_LEVEL", reason: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        return Configuration(
            publicURL: publicURL,
            host: value("GATEHOUSE_HOST") ?? "127.0.0.1",
            port: port,
            dataDirectory: dataDirectory,
            database: database,
            databaseWasGiven: value("GATEHOUSE_DATABASE_URL") != nil,
            sqlite: SQLiteOptions(
                synchronous: sqliteSynchronous,
                walLimitBytes: try integer("GATEHOUSE_WAL_LIMIT_BYTES", default: 64 << 20, range: (1 << 20)...(1 << 40))
            ),
            adminEmail: value("GATEHOUSE_ADMIN_EMAIL"),
            adminPassword: value("GATEHOUSE_ADMIN_PASSWORD"),
            secretKey: value("GATEHOUSE_SECRET_KEY"),
            bcryptCost: UInt8(try integer("GATEHOUSE_BCRYPT_COST", default: Int(PasswordHasher.defaultCost), range: 4...31)),
            sessionLifetime: TimeInterval(try integer("GATEHOUSE_SESSION_TTL", default: 8 * 3600, range: 60...31_536_000)),
            apiTokenLifetime: TimeInterval(try integer("GATEHOUSE_API_TOKEN_TTL", default: 30 * 86400, range: 60...31_536_000)),
            clientsPerPortal: try integer("GATEHOUSE_CLIENTS_PER_PORTAL", default: 100, range: 1...1_000_000),
            clientsPerPerson: try integer("GATEHOUSE_CLIENTS_PER_PERSON", default: 10, range: 1...1_000_000),
            apiKeysPerPerson: try integer("GATEHOUSE_API_KEYS_PER_PERSON", default: 50, range: 1...10_000),
            accessTokenLifetime: TimeInterval(try integer("GATEHOUSE_ACCESS_TOKEN_TTL", default: 3600, range: 60...86_400)),
            dynamicRegistration: try dynamicRegistration(),
            mcpServer: try onOff("GATEHOUSE_MCP", default: true),
            clientMetadataDocuments: try onOff("GATEHOUSE_CLIENT_METADATA_DOCUMENTS", default: true),
            outboundAllowPrivate: try onOff("GATEHOUSE_OUTBOUND_ALLOW_PRIVATE", default: false),
            outboundCAFile: try outboundCAFile(),
            registrationsPerHour: try integer("GATEHOUSE_REGISTRATIONS_PER_HOUR", default: 20, range: 1...1_000_000),
            developerTokenLifetime: TimeInterval(try integer("GATEHOUSE_DEVELOPER_TOKEN_TTL", default: 3600, range: 60...86_400)),
            codeLifetime: TimeInterval(try integer("GATEHOUSE_CODE_TTL", default: 60, range: 5...600)),
            refreshTokenLifetime: TimeInterval(try integer("GATEHOUSE_REFRESH_TOKEN_TTL", default: 60 * 86_400, range: 60...31_536_000)),
            maxUploadBytes: maxUploadBytes,
            uploadBudgetBytes: uploadBudgetBytes,
            clientsAPILimits: ClientsAPILimits(
                posts: try integer("GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE", default: 10, range: 1...1_000_000),
                changes: try integer("GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE", default: 15, range: 1...1_000_000),
                reads: try integer("GATEHOUSE_CLIENTS_API_READS_PER_MINUTE", default: 200, range: 1...1_000_000)
            ),
            tokenRequestsPerMinute: try integer("GATEHOUSE_TOKEN_REQUESTS_PER_MINUTE", default: 20_000, range: 1...100_000_000),
            trustedProxies: list(value("GATEHOUSE_TRUSTED_PROXIES") ?? ""),
            metricsToken: try metricsToken(),
            metricsAddresses: value("GATEHOUSE_METRICS_ADDRESSES").map(list) ?? ["127.0.0.1", "::1"],
            connectionLimits: ConnectionLimits(
                idleTimeout: .seconds(Int64(try integer("GATEHOUSE_IDLE_TIMEOUT", default: 60, range: 1...3600))),
                headTimeout: .seconds(Int64(try integer("GATEHOUSE_HEAD_TIMEOUT", default: 10, range: 1...600))),
                bodyPauseTimeout: .seconds(Int64(try integer("GATEHOUSE_BODY_TIMEOUT", default: 30, range: 1...3600))),
                bodyTimeout: .seconds(Int64(try integer("GATEHOUSE_BODY_TOTAL_TIMEOUT", default: 300, range: 1...86_400)))
            ),
            sweepInterval: TimeInterval(try integer("GATEHOUSE_SWEEP_INTERVAL", default: 60, range: 1...86_400)),
            logLevel: level
        )
    }

    /// The settings with secrets replaced by `***`.
    public var description: String {
        [
            "public_url=\(publicURL.absoluteString)", "host=\(host)", "port=\(port)", "data_dir=\(dataDirectory)",
            "database=\(database)", "sqlite_synchronous=\(sqlite.synchronous.rawValue)", "wal_limit_bytes=\(sqlite.walLimitBytes)", "admin_email=\(adminEmail ?? "-")",
            "admin_password=\(adminPassword == nil ? "-" : "***")",
            "secret_key=\(secretKey == nil ? "(key file)" : "***")", "bcrypt_cost=\(bcryptCost)",
            "session_ttl=\(Int(sessionLifetime))", "api_token_ttl=\(Int(apiTokenLifetime))", "clients_per_portal=\(clientsPerPortal)",
            "clients_per_person=\(clientsPerPerson)", "api_keys_per_person=\(apiKeysPerPerson)", "access_token_ttl=\(Int(accessTokenLifetime))",
            "developer_token_ttl=\(Int(developerTokenLifetime))", "dynamic_registration=\(dynamicRegistration.rawValue)", "mcp=\(mcpServer ? "on" : "off")",
            "client_metadata_documents=\(clientMetadataDocuments ? "on" : "off")", "outbound_allow_private=\(outboundAllowPrivate ? "1" : "0")",
            "outbound_ca_file=\(outboundCAFile ?? "-")",
            "registrations_per_hour=\(registrationsPerHour)",
            "code_ttl=\(Int(codeLifetime))", "refresh_token_ttl=\(Int(refreshTokenLifetime))", "max_upload_bytes=\(maxUploadBytes)", "upload_budget_bytes=\(uploadBudgetBytes)", "sweep_interval=\(Int(sweepInterval))", "idle_timeout=\(connectionLimits.idleTimeout.nanoseconds / 1_000_000_000)",
            "head_timeout=\(connectionLimits.headTimeout.nanoseconds / 1_000_000_000)",
            "body_timeout=\(connectionLimits.bodyPauseTimeout.nanoseconds / 1_000_000_000)",
            "body_total_timeout=\(connectionLimits.bodyTimeout.nanoseconds / 1_000_000_000)",
            "clients_api_limits=\(clientsAPILimits.posts)/\(clientsAPILimits.changes)/\(clientsAPILimits.reads)",
            "token_requests_per_minute=\(tokenRequestsPerMinute)", "trusted_proxies=\(trustedProxies.sorted().joined(separator: ","))",
            "metrics_token=\(metricsToken == nil ? "-" : "***")", "metrics_addresses=\(metricsAddresses.sorted().joined(separator: ","))",
            "log_level=\(logLevel)",
        ].joined(separator: " ")
    }
}

/// A setting that cannot be used, named so the operator can fix it.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The environment variable at fault.
    public let variable: String
    /// What it must be.
    public let reason: String

    /// `GATEHOUSE_PORT must be …`: one line.
    public var description: String { "\(variable) \(reason)" }
}
