#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Storage

/// Whether the folders the server will write to can be written, asked before anything is created:
/// the data folder (the SQLite file and `secret.key`) and the folder of a SQLite file named by
/// `GATEHOUSE_DATABASE_URL`. A folder that does not exist yet must be creatable in the nearest one
/// that does.
enum DataFolder {
    static func check(_ configuration: Configuration) throws {
        let keyFileNeeded = configuration.secretKey == nil
            && !FileManager.default.fileExists(atPath: (configuration.dataDirectory as NSString).appendingPathComponent("secret.key"))
        if case .sqlite(let path) = configuration.database {
            let folder = (path as NSString).deletingLastPathComponent
            let setting = sqliteSetting(configuration)
            try writable(folder.isEmpty ? "." : folder, setting: setting)
            // The file and its log, when they exist, must be this user's to write too (a file made by
            // `sudo gatehouse users add` would open, answer /health, and fail every write).
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                guard access(file, R_OK | W_OK) == 0 else {
                    throw ConfigurationError(variable: setting, reason: """
                        cannot be used: this user cannot write \(file); give the file to the user the server runs as
                        """)
                }
            }
        }
        if keyFileNeeded { try writable(configuration.dataDirectory, setting: "GATEHOUSE_DATA_DIR") }
    }

    /// The setting that names the SQLite file: the data folder unless `GATEHOUSE_DATABASE_URL` is given.
    static func sqliteSetting(_ configuration: Configuration) -> String {
        configuration.databaseWasGiven ? "GATEHOUSE_DATABASE_URL" : "GATEHOUSE_DATA_DIR"
    }

    /// Throws naming `setting` unless `folder` is a folder this process may write, or can be made.
    static func writable(_ folder: String, setting: String) throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        var existing = (folder as NSString).standardizingPath
        while !manager.fileExists(atPath: existing, isDirectory: &isFolder) {
            let parent = (existing as NSString).deletingLastPathComponent
            if parent == existing || parent.isEmpty { existing = "."; _ = manager.fileExists(atPath: existing, isDirectory: &isFolder); break }
            existing = parent
        }
        let made = existing == (folder as NSString).standardizingPath ? "" : " (to make \(folder))"
        guard isFolder.boolValue else {
            throw ConfigurationError(variable: setting, reason: "cannot be used: \(existing) is a file, not a folder\(made); name a folder this user can write")
        }
        guard access(existing, W_OK | X_OK) == 0 else {
            throw ConfigurationError(variable: setting, reason: "cannot be used: this user cannot write in \(existing)\(made); name a folder it can write, or change its owner")
        }
    }
}
