import Foundation
import Synchronization

/// How many password checks may be under way or waiting in this process at once. A bcrypt check at
/// the default work factor costs about 60 ms of one core (`Benchmarks/sign_in.py`), so 16 a core is
/// about a second of work: a sign-in that would wait longer than that is refused at once with 503 and
/// `Retry-After` (RFC 9110 §15.6.4) instead of joining an unbounded queue, so a flood cannot delay a
/// person's correct sign-in by more than about a second. The throttle (`SignInThrottle`) bounds what
/// one address or account can send; this bounds what everybody together can.
final class PasswordCheckQueue: Sendable {
    /// Checks under way or waiting, at most.
    let capacity: Int
    private let inFlight = Mutex(0)

    init(capacity: Int) { self.capacity = capacity }

    /// Sixteen checks a core.
    static func standard() -> PasswordCheckQueue {
        PasswordCheckQueue(capacity: 16 * max(1, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Runs `check` when there is room, else throws `AppError.busy` without running it.
    func run<T>(_ check: () async throws -> T) async throws -> T {
        let admitted = inFlight.withLock { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw AppError.busy(retryAfter: 1, message: "So many sign-ins are being checked right now that yours would wait. Try again in a second.")
        }
        defer { inFlight.withLock { $0 -= 1 } }
        return try await check()
    }
}
