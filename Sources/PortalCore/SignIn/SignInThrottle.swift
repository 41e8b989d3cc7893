import Foundation

/// The policy that slows down password guessing (OWASP ASVS V2.2.1): failed sign-ins are counted
/// in a sliding window per account and per client address; at the limit, further attempts are
/// refused without checking the password until the oldest failure leaves the window.
public struct SignInThrottle: Sendable, Equatable {
    /// Failures one account may have within the window.
    public var perAccountLimit: Int
    /// Failures one client address may have within the window (it may try many accounts).
    public var perAddressLimit: Int
    /// Length of the sliding window.
    public var window: TimeInterval

    /// The defaults: 5 per account and 20 per address in 15 minutes.
    public static let standard = SignInThrottle(perAccountLimit: 5, perAddressLimit: 20, window: 15 * 60)

    /// Creates a policy.
    public init(perAccountLimit: Int, perAddressLimit: Int, window: TimeInterval) {
        self.perAccountLimit = perAccountLimit
        self.perAddressLimit = perAddressLimit
        self.window = window
    }

    /// The counter key of an account (emails are compared lowercased).
    public static func accountKey(_ email: String) -> String { "account:" + email.lowercased() }
    /// The counter key of a client address.
    public static func addressKey(_ address: String) -> String { "address:" + address }

    /// What the counters say about one attempt.
    public enum Decision: Equatable, Sendable {
        /// The password may be checked.
        case allowed
        /// Refuse; the caller may try again after this many whole seconds.
        case throttled(retryAfter: Int)
    }

    /// Decides from the failures in the window: `failures[key]` holds the instants of that key's
    /// failures (any order) that are at most `window` old.
    public func decide(accountFailures: [Date], addressFailures: [Date], now: Date) -> Decision {
        let waits = [
            wait(failures: accountFailures, limit: perAccountLimit, now: now),
            wait(failures: addressFailures, limit: perAddressLimit, now: now),
        ].compactMap { $0 }
        guard let longest = waits.max() else { return .allowed }
        return .throttled(retryAfter: longest)
    }

    /// The instant before which failures no longer count.
    public func windowStart(now: Date) -> Date { now.addingTimeInterval(-window) }

    private func wait(failures: [Date], limit: Int, now: Date) -> Int? {
        let recent = failures.filter { $0 > windowStart(now: now) }.sorted()
        guard recent.count >= limit, limit > 0 else { return nil }
        // Allowed again once enough failures have aged out that fewer than `limit` remain.
        let freeing = recent[recent.count - limit]
        let seconds = freeing.addingTimeInterval(window).timeIntervalSince(now)
        return max(1, Int(seconds.rounded(.up)))
    }
}
