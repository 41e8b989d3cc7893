#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation
import OAuthCore

/// The server's secret key: from `GATEHOUSE_SECRET_KEY`, or from `secret.key` in the data folder,
/// made once with 32 random bytes and readable only by its owner.
///
/// Reading it writes nothing: a key that must be made is kept in memory until the start has checked
/// everything that could still stop it (`save()`), so a refused start leaves no key file behind.
struct SecretKeyFile {
    /// The key.
    let key: SymmetricKey
    /// The file's text when the file is still to be written.
    private let unsaved: (path: String, text: String)?

    /// The key the settings name, read or made (in memory only).
    static func load(configuration: Configuration) throws -> SecretKeyFile {
        if let given = configuration.secretKey {
            // Trimmed as the file is, so the same text opens the same keys from either place.
            let trimmed = given.trimmingCharacters(in: .whitespacesAndNewlines)
            return SecretKeyFile(key: SymmetricKey(data: SHA256.hash(data: Data(trimmed.utf8))), unsaved: nil)
        }
        let path = (configuration.dataDirectory as NSString).appendingPathComponent("secret.key")
        if FileManager.default.fileExists(atPath: path) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError(variable: "GATEHOUSE_DATA_DIR", reason: "holds a secret.key this user cannot read: \(path)")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.count >= 32 else {
                throw ConfigurationError(variable: "GATEHOUSE_DATA_DIR", reason: "holds a secret.key shorter than 32 characters")
            }
            return SecretKeyFile(key: SymmetricKey(data: SHA256.hash(data: Data(trimmed.utf8))), unsaved: nil)
        }
        let secret = OpaqueToken.generate()
        return SecretKeyFile(key: SymmetricKey(data: SHA256.hash(data: Data(secret.utf8))), unsaved: (path, secret + "\n"))
    }

    /// Writes the key file when the key was made now (the folder is made if it is missing), never over
    /// a file another process wrote meanwhile (`O_EXCL`): that one's key would be lost.
    func save() throws {
        guard let unsaved else { return }
        do {
            try FileManager.default.createDirectory(atPath: (unsaved.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError(variable: "GATEHOUSE_DATA_DIR", reason: "is not writable: cannot create \(unsaved.path)")
        }
        let descriptor = open(unsaved.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw ConfigurationError(variable: "GATEHOUSE_DATA_DIR", reason: errno == EEXIST
                ? "got a secret.key from another process starting at the same moment: start again to use it"
                : "is not writable: cannot create \(unsaved.path)")
        }
        let bytes = Array(unsaved.text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else {
            unlink(unsaved.path)
            throw ConfigurationError(variable: "GATEHOUSE_DATA_DIR", reason: "is not writable: cannot write \(unsaved.path)")
        }
    }
}
