import Foundation
import GatehouseTestSupport
import OAuthCore
import PortalCore
import SQLKit
import Storage
import Testing

/// Housekeeping deletes exactly what no request can use any more, in batches, on both databases.
@Suite struct HousekeepingTests {
    @Test(arguments: TestDatabaseKind.available)
    func sweepsWhatExpiredAndKeepsTheRest(kind: TestDatabaseKind) async throws {
        try await withScratchDatabase(kind) { database, _ in
            let now = Date(unixSeconds: 1_900_000_000)
            let t = now.unixSeconds
            let person = Person(id: .generate(), email: "p@example.com", firstName: "", lastName: "", role: .user, createdAt: now, updatedAt: now)
            try await SQLPersonStore(database: database).create(person, passwordHash: "x")
            let (client, icon) = makeClient(createdBy: person.id.rawValue)
            try await SQLClientStore(database: database).create(client, logo: icon, limits: roomyLimits)
            let p = person.id.rawValue
            let c = client.clientID.rawValue
            let other = Person(id: .generate(), email: "q@example.com", firstName: "", lastName: "", role: .user, createdAt: now, updatedAt: now)
            try await SQLPersonStore(database: database).create(other, passwordHash: "x")
            try await database.write { sql in
                try await sql.raw("INSERT INTO grants (grant_id, client_id, person_id, scopes, auth_time, created_at) VALUES ('g', \(bind: c), \(bind: p), 'openid', 0, 0)").run()
                try await sql.raw("INSERT INTO grants (grant_id, client_id, person_id, scopes, auth_time, created_at) VALUES ('g2', \(bind: c), \(bind: other.id.rawValue), 'openid', 0, 0)").run()
                // Developer tokens: one expired, one live.
                for (grant, person, expiry) in [("g", p, t - 1), ("g2", other.id.rawValue, t + 3600)] {
                    try await sql.raw("""
                        INSERT INTO developer_tokens (client_id, person_id, grant_id, scopes, created_at, expires_at)
                        VALUES (\(bind: c), \(bind: person), \(bind: grant), 'openid', 0, \(bind: expiry))
                        """).run()
                }
                // Codes: two long expired, one just expired (kept for reuse detection), one live.
                for (hash, expiry) in [("c1", t - 3600), ("c2", t - 700), ("c3", t - 10), ("c4", t + 50)] {
                    try await sql.raw("""
                        INSERT INTO authorization_codes (code_hash, grant_id, client_id, person_id, redirect_uri, redirect_uri_given, scopes,
                            auth_time, created_at, expires_at)
                        VALUES (\(bind: hash), 'g', \(bind: c), \(bind: p), 'https://a.example/cb', 1, 'openid', 0, 0, \(bind: expiry))
                        """).run()
                }
                // Refresh tokens: expired; rotated 8 days ago; rotated an hour ago (kept); live.
                for (hash, expiry, rotated) in [("r1", t - 1, nil), ("r2", t + 86_400, t - 8 * 86_400), ("r3", t + 86_400, t - 3600),
                                                ("r4", t + 86_400, nil)] as [(String, Int64, Int64?)] {
                    try await sql.raw("""
                        INSERT INTO refresh_tokens (token_hash, grant_id, client_id, person_id, scopes, auth_time, created_at, expires_at, rotated_at)
                        VALUES (\(bind: hash), 'g', \(bind: c), \(bind: p), 'openid', 0, 0, \(bind: expiry), \(bind: rotated))
                        """).run()
                }
                for (hash, expiry) in [("s1", t - 5), ("s2", t - 100), ("s3", t - 200), ("s4", t + 100)] {
                    try await sql.raw("""
                        INSERT INTO sessions (token_hash, person_id, kind, authenticated_at, expires_at)
                        VALUES (\(bind: hash), \(bind: p), 'browser', 0, \(bind: expiry))
                        """).run()
                }
                for (value, expiry) in [("old", t - 1), ("live", t + 3600)] {
                    try await sql.raw("INSERT INTO revocations (kind, value, created_at, expires_at) VALUES ('token', \(bind: value), 0, \(bind: expiry))").run()
                }
                for failedAt in [t - 3600, t - 60] {
                    try await sql.raw("INSERT INTO sign_in_failures (throttle_key, failed_at) VALUES ('k', \(bind: failedAt))").run()
                }
                // A secret kept for one view and a form token, one of each past its five minutes.
                for (index, expiresAt) in [t - 1, t + 300].enumerated() {
                    try await sql.raw("INSERT INTO one_time_views (id, owner, sealed, expires_at) VALUES (\(bind: "v\(index)"), 'o', \(bind: Data([0])), \(bind: expiresAt))").run()
                    try await sql.raw("INSERT INTO form_submissions (token, owner, result, expires_at) VALUES (\(bind: "f\(index)"), 'o', '', \(bind: expiresAt))").run()
                }
            }
            let pauses = Counter()
            let report = try await SQLHousekeeping(database: database, batchSize: 2).sweep(now: now) { pauses.add() }
            #expect(report.swept)
            #expect(report.deleted == ["authorization_codes": 2, "refresh_tokens": 2, "sessions": 3, "revocations": 1, "sign_in_failures": 1,
                                       "one_time_views": 1, "form_submissions": 1, "developer_tokens": 1, "registration_attempts": 0,
                                       "oauth_clients": 0])
            #expect(pauses.value >= 2, "full batches are followed by a pause")
            let left = try await database.read { sql in
                var left: [String: [String]] = [:]
                for (table, key) in [("authorization_codes", "code_hash"), ("refresh_tokens", "token_hash"), ("sessions", "token_hash"),
                                     ("revocations", "value"), ("developer_tokens", "grant_id")] {
                    left[table] = try await sql.raw("SELECT \(unsafeRaw: key) AS k FROM \(unsafeRaw: table) ORDER BY \(unsafeRaw: key)").all()
                        .map { try $0.decode(column: "k", as: String.self) }
                }
                return left
            }
            #expect(left == ["authorization_codes": ["c3", "c4"], "refresh_tokens": ["r3", "r4"], "sessions": ["s4"], "revocations": ["live"],
                           "developer_tokens": ["g2"]])
            let again = try await SQLHousekeeping(database: database, batchSize: 2).sweep(now: now) {}
            #expect(again.deleted.values.reduce(0, +) == 0)
        }
    }
}

/// Counts calls from a `@Sendable` closure.
final class Counter: @unchecked Sendable {
    // @unchecked: `count` is only touched under `lock`.
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
