import Foundation
import NIOCore

extension Data {
    /// The readable bytes of `buffer` as `Data` without copying them: the `Data` holds a reference
    /// to the buffer's storage (NIO's storage-management API) and lets it go when it is freed.
    /// For large values (uploads, file contents) that would otherwise be copied once more. Such a
    /// `Data` is for reading: changing its bytes in place would change them in the buffer (and every
    /// other view of that storage) too.
    public init(sharing buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else {
            self.init()
            return
        }
        self = buffer.withUnsafeReadableBytesWithStorageManagement { bytes, storage in
            let retained = storage.retain()
            return Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress!), count: bytes.count,
                        deallocator: .custom { _, _ in retained.release() })
        }
    }
}
