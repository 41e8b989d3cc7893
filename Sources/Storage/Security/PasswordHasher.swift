import HummingbirdBcrypt
import NIOPosix

/// bcrypt for people's passwords, run on NIO's thread pool so a slow hash never stalls request tasks.
///
/// Passwords are low-entropy, so they get a deliberately slow hash (OWASP Password Storage); app
/// secrets and tokens are high-entropy and use `OpaqueToken.hash` instead.
public struct PasswordHasher: Sendable {
    /// bcrypt's work factor (2^cost rounds).
    public let cost: UInt8

    /// A hasher with the given work factor (12 in production; tests use the minimum, 4).
    public init(cost: UInt8 = 12) { self.cost = cost }

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
