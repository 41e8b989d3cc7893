#if canImport(Glibc)
import Foundation
import Glibc
import Synchronization

/// glibc's allocator tuned for large bodies. By default an allocation over 128 KiB is a fresh `mmap`
/// and its release a `munmap`, so every upload or download of a 20 MB file pays a page fault and the
/// zeroing of each 4 KiB page of every buffer it touches (NIO rounds buffers up to a power of two:
/// 20 MB is a 32 MiB buffer), which cost about a third of the time such a request took. Allocations
/// up to 64 MiB now come from malloc's arenas and freed memory is returned to the system once more
/// than 64 MiB of it is free at the top of an arena: a process keeps up to about that much per
/// arena for reuse, in at most one arena a core. Either `MALLOC_*` variable set by the operator
/// (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) leaves glibc's own settings alone, and
/// `MALLOC_ARENA_MAX` its arena count.
public enum MallocTuning {
    public static let largest = 64 << 20

    /// Applies the tuning; `true` when glibc took it.
    @discardableResult
    public static func apply(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard environment["MALLOC_MMAP_THRESHOLD_"] == nil, environment["MALLOC_TRIM_THRESHOLD_"] == nil,
              // `mallopt` is in <malloc.h>, which Swift's Glibc module does not import: looked up by name.
              let symbol = dlsym(nil, "mallopt")
        else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        // One arena a core rather than glibc's eight: a body freed by one thread is memory the next
        // upload on another thread can use, instead of each thread's arena keeping its own
        // (measured in Benchmarks/resilience.py uploads: 466 → 415 MiB peak, 86 → 59 MiB at rest).
        let arenas = Int32(max(2, ProcessInfo.processInfo.activeProcessorCount))
        return mallopt(mmapThreshold, Int32(largest)) == 1 && mallopt(trimThreshold, Int32(largest)) == 1
            && (environment["MALLOC_ARENA_MAX"] != nil || mallopt(arenaMax, arenas) == 1)
    }

    /// Hands the free memory of every arena back to the system (`malloc_trim(0)`, which also releases
    /// free pages in the middle of an arena), a second after the last upload ended, on a utility
    /// thread: after a burst of uploads the bodies' buffers are free but stay mapped in the arenas of
    /// the threads that held them, which the top-of-arena trim above does not reach.
    @Sendable public static func giveBackSoon() {
        guard trimPending.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + 1) {
            trimPending.store(false, ordering: .relaxed)
            guard let symbol = dlsym(nil, "malloc_trim") else { return }
            _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
        }
    }

    private static let trimPending = Atomic(false)

    /// `M_MMAP_THRESHOLD` and `M_TRIM_THRESHOLD` of <malloc.h>.
    static let mmapThreshold: Int32 = -3
    static let trimThreshold: Int32 = -1
    /// `M_ARENA_MAX` of <malloc.h>.
    static let arenaMax: Int32 = -8
}
#else
import Foundation

/// Elsewhere the system's allocator is left as it is.
public enum MallocTuning {
    @discardableResult public static func apply(environment: [String: String] = [:]) -> Bool { false }
    @Sendable public static func giveBackSoon() {}
}
#endif
