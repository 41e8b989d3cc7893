import Crypto
import Foundation
import OAuthCore

/// The server's secret key: from `GATEHOUSE_SECRET_KEY`, or from `secret.key` in the data folder,
/// made once with 32 random bytes and readable only by its owner.
enum SecretKeyFile {
    static func load(configuration: Configuration) throws -> SymmetricKey {
        if let given = configuration.secretKey {
            return SymmetricKey(data: SHA256.hash(data: Data(given.utf8)))
        }
        let folder = configuration.dataDirectory
        let path = (folder as NSString).appendingPathComponent("secret.key")
        let manager = FileManager.default
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.count >= 32 else {
                throw ConfigurationError(variable: "GATEHOUSE_DATA_DIR", reason: "holds a secret.key shorter than 32 characters")
            }
            return SymmetricKey(data: SHA256.hash(data: Data(trimmed.utf8)))
        }
        do {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let secret = OpaqueToken.generate()
            guard manager.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown) }
            return SymmetricKey(data: SHA256.hash(data: Data(secret.utf8)))
        } catch {
            throw ConfigurationError(variable: "GATEHOUSE_DATA_DIR", reason: "is not writable: cannot create \(path)")
        }
    }
}
