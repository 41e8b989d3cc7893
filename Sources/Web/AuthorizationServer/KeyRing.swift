import Crypto
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import OAuthCore
import Synchronization

/// The signing keys in memory: parsed once, refreshed from the database every second so that a
/// `gatehouse keys rotate` run anywhere reaches every process; the JWKS document is prebuilt.
public final class KeyRing: Sendable {
    struct State: Sendable {
        var keys: ActiveKeys?
        var verification: [VerificationKey] = []
        var jwks = ByteBuffer(string: "{\"keys\":[]}")
        var fingerprint = ""
    }

    private let state = Mutex(State())
    private let store: any SigningKeyStore
    private let sealer: KeySealer
    private let clock: any TimeSource

    public init(store: any SigningKeyStore, secretKey: SymmetricKey, clock: any TimeSource) {
        self.store = store
        self.sealer = KeySealer(secretKey: secretKey)
        self.clock = clock
    }

    /// The keys that sign now.
    public var active: ActiveKeys? { state.withLock { $0.keys } }
    /// Every published public key.
    public var verificationKeys: [VerificationKey] { state.withLock { $0.verification } }
    /// `true` while the key `keyID` is published (and so may still vouch for a token).
    public func publishes(keyID: String) -> Bool { state.withLock { $0.verification.contains { $0.keyID == keyID } } }
    /// The JWKS document (RFC 7517 §5).
    /// The JWKS document's bytes (shared, never copied per request).
    public var jwksDocument: ByteBuffer { state.withLock { $0.jwks } }

    /// Makes a first key of each algorithm the database has none of; of processes starting together
    /// exactly one makes each (`SigningKeyStore.createFirst`), the others find it.
    public static func makeFirstKeys(store: any SigningKeyStore, secretKey: SymmetricKey, now: Date) async throws {
        let sealer = KeySealer(secretKey: secretKey)
        let algorithms = [JWSAlgorithm.es256, .rs256]
        let signing = Set(try await store.published(at: now).filter { $0.retiredAt == nil }.map(\.algorithm))
        if signing.isEmpty {
            let first = try algorithms.map { algorithm in
                let key = try SigningKey.generate(algorithm)
                return StoredSigningKey(keyID: key.keyID, algorithm: algorithm, sealedPrivateKey: try sealer.seal(key.privateBytes), createdAt: now)
            }
            if try await store.createFirst(first) { return }
        }
        // Keys of the other algorithm only (a portal older than one of them): added as a rotation would.
        let again = Set(try await store.published(at: now).filter { $0.retiredAt == nil }.map(\.algorithm))
        for algorithm in algorithms where !again.contains(algorithm) {
            try await rotate(algorithm, store: store, sealer: sealer, now: now, publishOldUntil: now)
        }
    }

    /// Seals every published key's private part anew with `newKey`, opening it with `oldKey` (a key
    /// already sealed with `newKey` is left as it is): how the secret key of a portal is changed.
    /// Throws `KeyResealError.oldKeyDoesNotOpen` naming the first key neither opens.
    public static func reseal(store: any SigningKeyStore, from oldKey: SymmetricKey, to newKey: SymmetricKey, now: Date) async throws -> Int {
        let old = KeySealer(secretKey: oldKey), new = KeySealer(secretKey: newKey)
        var resealed: [String: Data] = [:]
        for key in try await store.published(at: now) where (try? new.open(key.sealedPrivateKey)) == nil {
            guard let plain = try? old.open(key.sealedPrivateKey) else { throw KeyResealError.oldKeyDoesNotOpen(keyID: key.keyID) }
            resealed[key.keyID] = try new.seal(plain)
        }
        if !resealed.isEmpty { try await store.reseal(resealed) }
        return resealed.count
    }

    /// Reads the published keys again; cheap when nothing changed.
    public func reload() async throws {
        let stored = try await store.published(at: clock.now)
        let fingerprint = stored.map { "\($0.keyID):\($0.retiredAt?.unixSeconds ?? 0)" }.joined(separator: ",")
        if state.withLock({ $0.fingerprint == fingerprint }) { return }
        var verification: [VerificationKey] = []
        var newest: [JWSAlgorithm: SigningKey] = [:]
        for key in stored {
            let signing = try SigningKey(keyID: key.keyID, algorithm: key.algorithm, privateBytes: try sealer.open(key.sealedPrivateKey))
            verification.append(signing.publicKey)
            if key.retiredAt == nil { newest[key.algorithm] = signing }
        }
        let document = try JSONSerialization.data(
            withJSONObject: ["keys": verification.reversed().map(\.jwk)], options: [.sortedKeys, .withoutEscapingSlashes]
        )
        state.withLock { state in
            if let access = newest[.es256], let id = newest[.rs256] { state.keys = ActiveKeys(accessToken: access, idToken: id) }
            state.verification = verification
            state.jwks = ByteBuffer(data: document)
            state.fingerprint = fingerprint
        }
    }

    /// `true` when `secretKey` opens every signing key `store` publishes (or there is none yet): asked
    /// before a start changes anything, since every process of a portal must hold the same secret key.
    public static func secretKeyOpensStoredKeys(_ secretKey: SymmetricKey, store: any SigningKeyStore, now: Date) async throws -> Bool {
        let sealer = KeySealer(secretKey: secretKey)
        return try await store.published(at: now).allSatisfy { (try? sealer.open($0.sealedPrivateKey)) != nil }
    }

    /// Adds a new key of each algorithm; old public keys stay published until `publishOldUntil`.
    public static func rotateAll(store: any SigningKeyStore, secretKey: SymmetricKey, now: Date, publishOldUntil: Date) async throws {
        let sealer = KeySealer(secretKey: secretKey)
        for algorithm in [JWSAlgorithm.es256, .rs256] {
            try await rotate(algorithm, store: store, sealer: sealer, now: now, publishOldUntil: publishOldUntil)
        }
    }

    static func rotate(_ algorithm: JWSAlgorithm, store: any SigningKeyStore, sealer: KeySealer, now: Date, publishOldUntil: Date) async throws {
        let key = try SigningKey.generate(algorithm)
        try await store.rotate(
            to: StoredSigningKey(keyID: key.keyID, algorithm: algorithm, sealedPrivateKey: try sealer.seal(key.privateBytes), createdAt: now),
            publishOldUntil: publishOldUntil
        )
    }
}

/// Why signing keys could not be sealed anew.
public enum KeyResealError: Error, Equatable {
    /// The old secret key does not open this stored key (nor does the new one).
    case oldKeyDoesNotOpen(keyID: String)
}

/// AES-GCM sealing of private keys with a key derived from the server's secret key.
struct KeySealer: Sendable {
    let key: SymmetricKey

    init(secretKey: SymmetricKey) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: secretKey, info: Data("gatehouse signing keys".utf8), outputByteCount: 32)
    }

    func seal(_ plaintext: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else { throw AppError.internalError }
        return combined
    }

    func open(_ sealed: Data) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key)
    }
}
