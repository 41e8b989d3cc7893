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
            return SecretKeyFile(key: SymmetricKey(data: SHA256.hash(data: Data(given.utf8))), unsaved: nil)
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

    /// Writes the key file when the key was made now; the folder is made if it is missing.
    func save() throws {
        guard let unsaved else { return }
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: (unsaved.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard manager.createFile(atPath: unsaved.path, contents: Data(unsaved.text.utf8), attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            throw ConfigurationError(variable: "GATEHOUSE_DATA_DIR", reason: "is not writable: cannot create \(unsaved.path)")
        }
    }
}
