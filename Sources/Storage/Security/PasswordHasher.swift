import HummingbirdBcrypt
import NIOPosix

/// bcrypt for people's passwords, run on NIO's thread pool so a slow hash never stalls request tasks.
///
/// Passwords are low-entropy, so they get a deliberately slow hash (OWASP Password Storage); app
/// secrets and tokens are high-entropy and use `OpaqueToken.hash` instead.
public struct PasswordHasher: Sendable {
    /// bcrypt's work factor (2^cost rounds).
    public let cost: UInt8

    /// The default work factor: OWASP's minimum for bcrypt (Password Storage Cheat Sheet), and about
    /// 24 verifications a second per core on the machines Gatehouse is built on — above the 15 per
    /// vCPU that Keycloak 26 sizes sign-ins by. `Benchmarks/sign_in.py` measures it.
    public static let defaultCost: UInt8 = 10

    /// A hasher with the given work factor (tests use the minimum, 4).
    public init(cost: UInt8 = PasswordHasher.defaultCost) { self.cost = cost }

    /// `true` when `hash` is a bcrypt hash made with another work factor than this hasher's, so that
    /// a successful sign-in should store a new one (`$2b$10$…`: the cost is the third field).
    public func needsRehash(_ hash: String) -> Bool {
        guard let stored = Self.cost(of: hash) else { return false }
        return stored != cost
    }

    /// The work factor of a bcrypt hash (`$2b$10$…`), or `nil` for anything else.
    public static func cost(of hash: String) -> UInt8? {
        let fields = hash.split(separator: "$", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0].isEmpty, ["2a", "2b", "2y"].contains(fields[1]), fields[2].utf8.count == 2,
              fields[2].utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let cost = UInt8(fields[2]), (4...31).contains(cost)
        else { return nil }
        return cost
    }

    /// A new salted hash of `password`.
    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// `true` when `password` matches `hash`.
    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

}
