import Synchronization

/// A fixed set of resources handed out one caller at a time; callers wait in arrival order. A lock
/// rather than an actor: taking an idle connection is the common case and costs no executor hop.
final class ResourcePool<Resource: Sendable>: Sendable {
    private struct State {
        var idle: [Resource]
        var waiters: [CheckedContinuation<Resource, Never>] = []
    }

    private let state: Mutex<State>

    init(_ resources: [Resource]) { state = Mutex(State(idle: resources)) }

    func acquire() async -> Resource {
        if let resource = state.withLock({ $0.idle.popLast() }) { return resource }
        return await withCheckedContinuation { continuation in
            let ready: Resource? = state.withLock { state in
                if let resource = state.idle.popLast() { return resource }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Gives `resource` to the caller waiting longest and answers `true`; answers `false` (and keeps
    /// nothing) when nobody waits, so the caller still holds it.
    func handOver(_ resource: Resource) -> Bool {
        let waiter: CheckedContinuation<Resource, Never>? = state.withLock { state in
            state.waiters.isEmpty ? nil : state.waiters.removeFirst()
        }
        waiter?.resume(returning: resource)
        return waiter != nil
    }

    /// An idle resource if there is one now, without waiting.
    func tryAcquire() -> Resource? { state.withLock { $0.idle.popLast() } }

    func release(_ resource: Resource) {
        let waiter: CheckedContinuation<Resource, Never>? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.idle.append(resource)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: resource)
    }

    /// Takes every resource out of the pool (waiting for those in use), for closing.
    func drain(count: Int) async -> [Resource] {
        var all: [Resource] = []
        for _ in 0..<count { all.append(await acquire()) }
        return all
    }

    /// Runs `body` with a resource and returns it to the pool afterwards, even when `body` throws.
    func with<T: Sendable>(_ body: (Resource) async throws -> T) async throws -> T {
        let resource = await acquire()
        do {
            let value = try await body(resource)
            release(resource)
            return value
        } catch {
            release(resource)
            throw error
        }
    }
}
