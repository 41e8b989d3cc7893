import Foundation

/// Where the rules read the time from, so tests can fix it.
public protocol TimeSource: Sendable {
    /// The current instant.
    var now: Date { get }
}

/// The system's wall clock.
public struct SystemTime: TimeSource {
    /// Creates the system clock.
    public init() {}
    /// The current instant.
    public var now: Date { Date() }
}

/// A clock that stands still at a given instant unless moved (tests).
public final class FixedTime: TimeSource, @unchecked Sendable {
    // @unchecked: every access to `instant` goes through `lock`.
    private let lock = NSLock()
    private var instant: Date

    /// Creates a clock that reads `instant`.
    public init(_ instant: Date) { self.instant = instant }

    /// The instant the clock is set to.
    public var now: Date { lock.withLock { instant } }

    /// Moves the clock forward by `seconds`.
    public func advance(by seconds: TimeInterval) {
        lock.withLock { instant = instant.addingTimeInterval(seconds) }
    }
}

extension Date {
    /// Whole seconds since 1970 (RFC 7519 §2 NumericDate), the form stored in the database.
    public var unixSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }

    /// Milliseconds since 1970, the resolution of the revocation feed.
    public var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The instant `seconds` after 1970.
    public init(unixSeconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(unixSeconds)) }
}
