import Foundation
import Synchronization
import Testing
@testable import Web

/// Issue 19: upload bodies in memory are bounded by a byte budget. A reservation that does not fit
/// waits its turn, first come first served, and is refused with 503 and Retry-After after its
/// patience; a finished, failed or cancelled request gives its bytes back.
@Suite(.timeLimit(.minutes(1))) struct BodyBudgetTests {
    typealias Gate = PasswordCheckQueueTests.Gate

    final class Log: Sendable {
        let entries = Mutex<[String]>([])
        let emptied = Atomic(0)
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func aReservationThatDoesNotFitWaitsForRoomAndIsAdmittedInOrder() async throws {
        let order = Log()
        let budget = BodyBudget(capacity: 100, patience: .seconds(30), onEmpty: { order.emptied.add(1, ordering: .relaxed) })
        let gate = Gate()
        async let first: Void = budget.withReservation(60) { await gate.wait(); order.add("first") }
        while gate.entered.load(ordering: .relaxed) < 1 { try await Task.sleep(for: .milliseconds(1)) }
        async let second: Void = budget.withReservation(60) { order.add("second") }
        try await Task.sleep(for: .milliseconds(50))
        // A small one behind the waiting one does not overtake it, though it would fit.
        async let third: Void = budget.withReservation(10) { order.add("third") }
        try await Task.sleep(for: .milliseconds(50))
        #expect(order.all.isEmpty, "the second waits while the first holds 60 of 100 bytes")
        #expect(budget.used == 60)
        gate.open()
        try await first
        try await second
        try await third
        #expect(order.all == ["first", "second", "third"])
        #expect(budget.used == 0)
        #expect(order.emptied.load(ordering: .relaxed) >= 1, "the memory is handed back once the budget is free")
    }

    @Test func aReservationWithoutRoomWithinItsPatienceIs503AndRunsNothing() async throws {
        let budget = BodyBudget(capacity: 100, patience: .milliseconds(200))
        let gate = Gate()
        async let holder: Void = budget.withReservation(100) { await gate.wait() }
        while gate.entered.load(ordering: .relaxed) < 1 { try await Task.sleep(for: .milliseconds(1)) }
        let started = ContinuousClock.now
        do {
            _ = try await budget.withReservation(1) { Issue.record("ran without room") }
            Issue.record("admitted without room")
        } catch let AppError.busy(retryAfter, message) {
            #expect(retryAfter > 0 && message.contains("uploads"))
            #expect(ContinuousClock.now - started >= .milliseconds(150), "it waited before giving up")
        }
        gate.open()
        try await holder
        #expect(budget.used == 0)
        try await budget.withReservation(100) {}
    }

    @Test func aFailedOrCancelledRequestGivesItsBytesBack() async throws {
        let budget = BodyBudget(capacity: 100, patience: .seconds(30))
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await budget.withReservation(80) { throw Failure() } }
        #expect(budget.used == 0)
        let gate = Gate()
        async let holder: Void = budget.withReservation(100) { await gate.wait() }
        while gate.entered.load(ordering: .relaxed) < 1 { try await Task.sleep(for: .milliseconds(1)) }
        let waiting = Task { try await budget.withReservation(50) {} }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        await #expect(throws: AppError.self) { try await waiting.value }
        gate.open()
        try await holder
        #expect(budget.used == 0)
        // More than the whole budget is held as the whole budget: one upload can always run alone.
        try await budget.withReservation(1_000) { #expect(budget.used == 100) }
    }
}
