import Foundation
import Synchronization

/// Folder listings already written, reused while the folder's `version` stays the same. Every
/// change to a folder or what it directly holds raises its version in the database (in the change's
/// own transaction), and every request reads the folder row first, so a listing changed by any
/// process is never served stale. Bounded by entries and bytes.
final class ListingCache: Sendable {
    private struct Entry: Sendable {
        let version: Int64
        let body: [UInt8]
    }

    private let entries = Mutex<[Int64: Entry]>([:])
    private let maximumEntries: Int
    private let maximumBytes: Int

    init(maximumEntries: Int = 256, maximumBytes: Int = 32 * 1024 * 1024) {
        self.maximumEntries = maximumEntries
        self.maximumBytes = maximumBytes
    }

    /// The listing of `folderID` at `version`, when written before.
    func body(folderID: Int64, version: Int64) -> [UInt8]? {
        entries.withLock { entries in
            guard let entry = entries[folderID], entry.version == version else { return nil }
            return entry.body
        }
    }

    func store(folderID: Int64, version: Int64, body: [UInt8]) {
        guard body.count <= maximumBytes / 8 else { return }
        entries.withLock { entries in
            if entries.count >= maximumEntries || entries.values.reduce(0, { $0 + $1.body.count }) + body.count > maximumBytes {
                entries.removeAll(keepingCapacity: true)
            }
            entries[folderID] = Entry(version: version, body: body)
        }
    }
}
