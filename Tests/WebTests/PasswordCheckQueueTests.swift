import Foundation
import HTTPTypes
import Synchronization
import Testing
@testable import Web

/// Issue 19: password checks under way or waiting are bounded; one more is refused at once with 503
/// and Retry-After rather than queued, and a finished or failed check frees its place.
@Suite struct PasswordCheckQueueTests {
    final class Gate: Sendable {
        let opened = Mutex<[CheckedContinuation<Void, Never>]>([])
        let entered = Atomic(0)
        func wait() async {
            entered.add(1, ordering: .relaxed)
            await withCheckedContinuation { continuation in opened.withLock { $0.append(continuation) } }
        }
        func open() { for waiter in opened.withLock({ list in defer { list.removeAll() }; return list }) { waiter.resume() } }
    }

    @Test func oneMoreThanTheCapacityIsRefusedAtOnceAndAFinishedCheckFreesItsPlace() async throws {
        let queue = PasswordCheckQueue(capacity: 2)
        let gate = Gate()
        async let first: Void = queue.run { await gate.wait() }
        async let second: Void = queue.run { await gate.wait() }
        while gate.entered.load(ordering: .relaxed) < 2 { try await Task.sleep(for: .milliseconds(1)) }
        do {
            try await queue.run { () -> Void in Issue.record("a third check ran beyond the capacity") }
            Issue.record("a third check was admitted")
        } catch let AppError.busy(retryAfter, _) {
            #expect(retryAfter == 1)
        }
        gate.open()
        _ = try await (first, second)
        struct Failed: Error {}
        await #expect(throws: Failed.self) { try await queue.run { throw Failed() } }
        #expect(try await queue.run { 42 } == 42, "finished and failed checks gave their places back")
        #expect(AppError.busy(retryAfter: 1, message: "").status == .serviceUnavailable)
    }
}
