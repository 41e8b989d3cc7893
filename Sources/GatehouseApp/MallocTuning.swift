#if canImport(Glibc)
import Foundation
import Glibc

/// glibc's allocator tuned for large bodies. By default an allocation over 128 KiB is a fresh `mmap`
/// and its release a `munmap`, so every upload or download of a 20 MB file pays a page fault and the
/// zeroing of each 4 KiB page of every buffer it touches (NIO rounds buffers up to a power of two:
/// 20 MB is a 32 MiB buffer), which cost about a third of the time such a request took. Allocations
/// up to 64 MiB now come from malloc's arenas and freed memory is returned to the system once more
/// than 64 MiB of it is free at the top of an arena: a process keeps up to about that much per
/// arena for reuse. Either `MALLOC_*` variable set by the operator (`MALLOC_MMAP_THRESHOLD_`,
/// `MALLOC_TRIM_THRESHOLD_`) leaves glibc's own settings alone.
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
        return mallopt(mmapThreshold, Int32(largest)) == 1 && mallopt(trimThreshold, Int32(largest)) == 1
    }

    /// `M_MMAP_THRESHOLD` and `M_TRIM_THRESHOLD` of <malloc.h>.
    static let mmapThreshold: Int32 = -3
    static let trimThreshold: Int32 = -1
}
#endif
