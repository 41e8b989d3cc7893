import Foundation
import NIOCore
import GatehouseApp
import Storage
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsNeedNothingInstalled() throws {
        let configuration = try Configuration.fromEnvironment([:])
        #expect(configuration.publicURL.absoluteString == "http://127.0.0.1:8080")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.database == .sqlite(path: "./data/gatehouse.sqlite"))
        #expect(configuration.bcryptCost == 10)
        #expect(configuration.sqlite.synchronous == .full, "a committed revocation survives a power cut")
        #expect(try Configuration.fromEnvironment(["GATEHOUSE_SQLITE_SYNCHRONOUS": "NORMAL"]).sqlite.synchronous == .normal)
        #expect(!configuration.secureCookies)
        #expect(configuration.connectionLimits.headTimeout == .seconds(10) && configuration.connectionLimits.bodyPauseTimeout == .seconds(30))
        #expect(configuration.connectionLimits.bodyTimeout == .seconds(300) && configuration.connectionLimits.idleTimeout == .seconds(60))
    }

    @Test(arguments: [
        ("GATEHOUSE_PORT", "99999"), ("GATEHOUSE_PORT", "http"), ("GATEHOUSE_PORT", "0"),
        ("GATEHOUSE_PUBLIC_URL", "not a url"), ("GATEHOUSE_PUBLIC_URL", "ftp://x.example"),
        ("GATEHOUSE_PUBLIC_URL", "/relative"), ("GATEHOUSE_DATABASE_URL", "mysql://root@db/x"),
        ("GATEHOUSE_DATABASE_URL", "postgres://"), ("GATEHOUSE_SECRET_KEY", "too-short"),
        ("GATEHOUSE_BCRYPT_COST", "3"), ("GATEHOUSE_LOG_LEVEL", "loud"), ("GATEHOUSE_SQLITE_SYNCHRONOUS", "off"),
        ("GATEHOUSE_ADMIN_EMAIL", "not-an-email"), ("GATEHOUSE_ADMIN_PASSWORD", "short"),
        ("GATEHOUSE_IDLE_TIMEOUT", "0"), ("GATEHOUSE_HEAD_TIMEOUT", "0"), ("GATEHOUSE_HEAD_TIMEOUT", "10s"),
        ("GATEHOUSE_BODY_TIMEOUT", "-1"), ("GATEHOUSE_BODY_TOTAL_TIMEOUT", "0"), ("GATEHOUSE_UPLOAD_BUDGET_BYTES", "0"),
        ("GATEHOUSE_UPLOAD_BUDGET_BYTES", "1000000"), ("GATEHOUSE_DEVELOPER_TOKEN_TTL", "59"),
        ("GATEHOUSE_DEVELOPER_TOKEN_TTL", "86401"), ("GATEHOUSE_DEVELOPER_TOKEN_TTL", "1h"),
        ("GATEHOUSE_MCP", "maybe"), ("GATEHOUSE_DYNAMIC_REGISTRATION", "closed"), ("GATEHOUSE_REGISTRATIONS_PER_HOUR", "0"),
    ])
    func aBadValueNamesItsVariable(variable: String, value: String) {
        #expect {
            try Configuration.fromEnvironment([variable: value])
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable
        }
    }

    @Test func secretsAreRedactedWhenPrinted() throws {
        let configuration = try Configuration.fromEnvironment([
            "GATEHOUSE_ADMIN_PASSWORD": "hunter2-hunter2",
            "GATEHOUSE_SECRET_KEY": String(repeating: "k", count: 40),
            "GATEHOUSE_DATABASE_URL": "postgres://app:db-password@127.0.0.1:5432/portal",
        ])
        let text = configuration.description
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("kkkk"))
        #expect(!text.contains("db-password"))
        #expect(text.contains("postgres://app:***@127.0.0.1:5432/portal"))
    }

    @Test func postgresAndHTTPSAreRecognized() throws {
        let configuration = try Configuration.fromEnvironment([
            "GATEHOUSE_DATABASE_URL": "postgres://app@db:5432/portal",
            "GATEHOUSE_PUBLIC_URL": "https://portal.example.com/",
        ])
        #expect(configuration.secureCookies)
        #expect(configuration.publicURL.absoluteString == "https://portal.example.com")
        guard case .postgres(let location) = configuration.database else {
            Issue.record("expected PostgreSQL")
            return
        }
        #expect(location.host == "db")
    }

    /// A bind that fails after the start's check (another process took the port) is the same line.
    @Test func aLateBindFailureNamesTheSetting() {
        #expect(ListenAddress.explain(IOError(errnoCode: EADDRINUSE, reason: "bind"), host: "127.0.0.1", port: 8080)?.variable == "GATEHOUSE_PORT")
        #expect(ListenAddress.explain(IOError(errnoCode: EADDRNOTAVAIL, reason: "bind"), host: "192.0.2.1", port: 8080)?.variable == "GATEHOUSE_HOST")
        #expect(ListenAddress.explain(CancellationError(), host: "127.0.0.1", port: 8080) == nil)
    }

    @Test func theDataFolderIsNamedAlikeWithATrailingSlash() throws {
        #expect(try Configuration.fromEnvironment(["GATEHOUSE_DATA_DIR": "/srv/gatehouse/"]).dataDirectory == "/srv/gatehouse")
        #expect(try !Configuration.fromEnvironment(["GATEHOUSE_DATA_DIR": "/srv/gatehouse/"]).databaseWasGiven)
    }
}
