import Foundation

/// The policy that slows down password guessing (OWASP ASVS V2.2.1): failed sign-ins are counted
/// in a sliding window per account and client address, per account, and per client address; at a
/// limit, further attempts are refused without checking the password until the oldest failure
/// leaves the window.
///
/// One address guessing one account meets the tightest limit (5), so it can neither check more
/// passwords nor lock the account's owner out: the owner signing in from elsewhere is counted on
/// other keys. Guessing spread over many addresses meets the account's limit (50), one address
/// trying many accounts the address's (20).
public struct SignInThrottle: Sendable, Equatable {
    /// Failures one account may have from one client address within the window.
    public var perAccountAndAddressLimit: Int
    /// Failures one account may have from all addresses together within the window.
    public var perAccountLimit: Int
    /// Failures one client address may have within the window (it may try many accounts).
    public var perAddressLimit: Int
    /// Length of the sliding window.
    public var window: TimeInterval

    /// The defaults: 5 per account and address, 50 per account, 20 per address in 15 minutes.
    public static let standard = SignInThrottle(perAccountAndAddressLimit: 5, perAccountLimit: 50, perAddressLimit: 20, window: 15 * 60)

    /// Creates a policy.
    public init(perAccountAndAddressLimit: Int, perAccountLimit: Int, perAddressLimit: Int, window: TimeInterval) {
        self.perAccountAndAddressLimit = perAccountAndAddressLimit
        self.perAccountLimit = perAccountLimit
        self.perAddressLimit = perAddressLimit
        self.window = window
    }

    /// The counter key of an account (emails are compared lowercased).
    public static func accountKey(_ email: String) -> String { "account:" + email.lowercased() }
    /// The counter key of a client address.
    public static func addressKey(_ address: String) -> String { "address:" + address }
    /// The counter key of an account tried from one client address. Its prefix is neither of the
    /// others', and the email's length comes first, so no email (whatever it holds) and address can
    /// make the key of another pair or of a single account or address.
    public static func accountAndAddressKey(_ email: String, _ address: String) -> String {
        let email = email.lowercased()
        return "account+address:\(email.utf8.count):" + email + address
    }

    /// The keys an attempt on `email` from `address` counts on, in the order `decide` takes their failures.
    public static func keys(email: String, address: String) -> [String] {
        [accountAndAddressKey(email, address), accountKey(email), addressKey(address)]
    }

    /// What the counters say about one attempt.
    public enum Decision: Equatable, Sendable {
        /// The password may be checked.
        case allowed
        /// Refuse; the caller may try again after this many whole seconds.
        case throttled(retryAfter: Int)
    }

    /// Decides from the failures in the window of each key of `keys(email:address:)`, in that order
    /// (each list holds instants, any order; older ones are ignored).
    public func decide(failures: [[Date]], now: Date) -> Decision {
        let limits = [perAccountAndAddressLimit, perAccountLimit, perAddressLimit]
        let waits = zip(failures, limits).compactMap { wait(failures: $0, limit: $1, now: now) }
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
