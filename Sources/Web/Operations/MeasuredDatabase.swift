import Foundation
import Prometheus
import SQLKit
import Storage

/// The database, measured for `/metrics`: operations in progress (how much of the pool is in use)
/// and how long each read or transaction took, including the wait for a connection.
public struct MeasuredDatabase: Database {
    let inner: any Database
    let inUse: Gauge
    let reads: DurationHistogram
    let writes: DurationHistogram
    let failures: Counter

    public init(_ inner: any Database, metrics: AppMetrics) {
        self.inner = inner
        let registry = metrics.registry
        inUse = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "database_operations_in_progress", unitName: "", helpText: "Reads and transactions holding or waiting for a connection."
        ))
        let latency = MetricNameDescriptor(
            metricName: "database_operation_duration", unitName: "seconds",
            helpText: "Time of one read or transaction, the wait for a connection included."
        )
        reads = registry.makeDurationHistogram(descriptor: latency, labels: [("kind", "read")], buckets: AppMetrics.latencyBuckets)
        writes = registry.makeDurationHistogram(descriptor: latency, labels: [("kind", "write")], buckets: AppMetrics.latencyBuckets)
        failures = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "database_unavailable", unitName: "total", helpText: "Operations that found the database unreachable."
        ))
    }

    public var flavor: SQLFlavor { inner.flavor }

    public func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await measure(reads) { try await inner.read(body) }
    }

    public func write<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await measure(writes) { try await inner.write(body) }
    }

    public func ping() async -> Bool { await inner.ping() }

    public func close() async { await inner.close() }

    private func measure<T>(_ histogram: DurationHistogram, _ operation: () async throws -> T) async throws -> T {
        inUse.increment()
        let started = ContinuousClock.now
        defer {
            inUse.decrement()
            histogram.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        }
        do {
            return try await operation()
        } catch let error as StorageError {
            failures.increment()
            throw error
        }
    }
}
