import Foundation
import Synchronization

/// Bytes of upload bodies this process holds in memory at once (`GATEHOUSE_UPLOAD_BUDGET_BYTES`,
/// 256 MiB by default). An upload reserves its declared length (or the most it may carry) before its
/// body is read; one that does not fit waits its turn, first come first served, for up to `patience`
/// and is then refused with 503 and `Retry-After` (RFC 9110 §15.6.4). A request not yet reading its
/// body leaves it in the socket (the connection reads no further than the server asks), so 60
/// uploads of 24 MB at once hold about the budget, not 1.4 GB.
public final class BodyBudget: Sendable {
    /// Bytes that may be reserved at once.
    public let capacity: Int
    /// How long a reservation waits for room before the request is refused.
    let patience: Duration
    /// Called (off the request's task) whenever the budget becomes wholly free again after use: the
    /// moment to hand freed memory back to the system.
    let onEmpty: @Sendable () -> Void

    private struct Waiter {
        let id: Int
        let bytes: Int
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var used = 0
        var nextID = 0
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    public init(capacity: Int, patience: Duration = .seconds(5), onEmpty: @escaping @Sendable () -> Void = {}) {
        self.capacity = capacity
        self.patience = patience
        self.onEmpty = onEmpty
    }

    /// Bytes reserved now.
    var used: Int { state.withLock { $0.used } }

    /// Runs `body` holding `bytes` of the budget (at most the whole budget, so one request can always
    /// run alone); throws `AppError.busy` when no room came within `patience`.
    func withReservation<T>(_ bytes: Int, _ body: () async throws -> T) async throws -> T {
        let bytes = max(0, min(bytes, capacity))
        guard await reserve(bytes) else {
            throw AppError.busy(retryAfter: 5, message: "So many uploads are under way that yours would wait too long. Try again in a few seconds.")
        }
        defer { release(bytes) }
        return try await body()
    }

    private func reserve(_ bytes: Int) async -> Bool {
        let id = state.withLock { state -> Int? in
            if state.waiters.isEmpty, state.used + bytes <= capacity {
                state.used += bytes
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return true }
        let patience = self.patience
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let granted = state.withLock { state -> Bool in
                    // Room may have come since the first look.
                    if state.waiters.isEmpty, state.used + bytes <= capacity {
                        state.used += bytes
                        return true
                    }
                    state.waiters.append(Waiter(id: id, bytes: bytes, continuation: continuation))
                    return false
                }
                if granted {
                    continuation.resume(returning: true)
                    return
                }
                Task { [weak self] in
                    try? await Task.sleep(for: patience)
                    self?.giveUp(id)
                }
            }
        } onCancel: {
            giveUp(id)
        }
    }

    /// Takes a waiter out of the queue and tells it no, if it is still waiting.
    private func giveUp(_ id: Int) {
        let (waiter, granted) = state.withLock { state -> (Waiter?, [Waiter]) in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return (nil, []) }
            let waiter = state.waiters.remove(at: index)
            // The head of the queue may have been holding up smaller ones behind it.
            return (waiter, Self.admit(&state, capacity: capacity))
        }
        waiter?.continuation.resume(returning: false)
        granted.forEach { $0.continuation.resume(returning: true) }
    }

    private func release(_ bytes: Int) {
        let (granted, empty) = state.withLock { state -> ([Waiter], Bool) in
            state.used -= bytes
            let granted = Self.admit(&state, capacity: capacity)
            return (granted, state.used == 0 && bytes > 0)
        }
        granted.forEach { $0.continuation.resume(returning: true) }
        if empty { onEmpty() }
    }

    /// Admits waiters from the head of the queue while they fit.
    private static func admit(_ state: inout State, capacity: Int) -> [Waiter] {
        var granted: [Waiter] = []
        while let first = state.waiters.first, state.used + first.bytes <= capacity {
            state.used += first.bytes
            granted.append(state.waiters.removeFirst())
        }
        return granted
    }
}
