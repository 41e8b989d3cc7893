/// A fixed set of resources handed out one caller at a time; callers wait in arrival order.
actor ResourcePool<Resource: Sendable> {
    private var idle: [Resource]
    private var waiters: [CheckedContinuation<Resource, Never>] = []

    init(_ resources: [Resource]) { self.idle = resources }

    func acquire() async -> Resource {
        if let resource = idle.popLast() { return resource }
        return await withCheckedContinuation { waiters.append($0) }
    }

    func release(_ resource: Resource) {
        if waiters.isEmpty {
            idle.append(resource)
        } else {
            waiters.removeFirst().resume(returning: resource)
        }
    }

    /// Takes every resource out of the pool (waiting for those in use), for closing.
    func drain(count: Int) async -> [Resource] {
        var all: [Resource] = []
        for _ in 0..<count { all.append(await acquire()) }
        return all
    }
}

extension ResourcePool {
    /// Runs `body` with a resource and returns it to the pool afterwards, even when `body` throws.
    nonisolated func with<T: Sendable>(_ body: (Resource) async throws -> T) async throws -> T {
        let resource = await acquire()
        do {
            let value = try await body(resource)
            await release(resource)
            return value
        } catch {
            await release(resource)
            throw error
        }
    }
}
