import Foundation
import Hummingbird
import OAuthCore
import Synchronization

/// Fixed-window request budgets kept in this process's memory (the documented per-process budget of
/// issue 6: with N processes behind a balancer a caller gets at most N times the budget). Sign-in
/// attempts are throttled in the database instead, since guessing must be bounded across processes.
public final class RateLimiter: Sendable {
    private struct Window: Sendable {
        var start: Int64
        var count: Int
    }

    private let windows = Mutex<[String: Window]>([:])
    /// Length of a window, in seconds.
    let windowSeconds: Int64

    public init(windowSeconds: Int64 = 60) { self.windowSeconds = windowSeconds }

    /// Counts one request of `key`; `nil` when it is within `limit`, else the seconds until the window ends.
    func retryAfter(key: String, limit: Int, now: Date) -> Int? {
        let seconds = Int64(now.timeIntervalSince1970)
        let start = seconds - seconds % windowSeconds
        return windows.withLock { windows in
            if windows.count > 50_000 { windows = windows.filter { $0.value.start == start } }
            var window = windows[key].flatMap { $0.start == start ? $0 : nil } ?? Window(start: start, count: 0)
            guard window.count < limit else { return Int(start + windowSeconds - seconds) }
            window.count += 1
            windows[key] = window
            return nil
        }
    }
}

/// Requests per person and minute on the clients API (DocSpace's defaults: POST 10, PUT/PATCH/DELETE 15, GET 200).
public struct ClientsAPILimits: Sendable, Equatable {
    public var posts: Int
    public var changes: Int
    public var reads: Int

    public init(posts: Int = 10, changes: Int = 15, reads: Int = 200) {
        self.posts = posts
        self.changes = changes
        self.reads = reads
    }
}
