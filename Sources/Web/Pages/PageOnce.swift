import Crypto
import Foundation
import Hummingbird
import OAuthCore
import PortalCore

/// Post/Redirect/Get for forms that make a secret (SPEC §7): the secret is kept for the one view after
/// the redirect, sealed with a key derived from the secret key (AES-GCM), bound to the browser's
/// session, readable once, gone after 5 minutes; and a form's single-use token makes a form sent twice
/// (a double click, a resent POST) act once.
struct PageOnce: Sendable {
    let store: any OnceStore
    let sessionCookie: String
    let clock: any TimeSource
    private let key: SymmetricKey
    static let lifetime: TimeInterval = 300
    /// The hidden field of a form's single-use token.
    static let formField = "form_token"

    init(store: any OnceStore, secretKey: SymmetricKey, sessionCookie: String, clock: any TimeSource) {
        self.store = store
        self.sessionCookie = sessionCookie
        self.clock = clock
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: secretKey, info: Data("gatehouse one-time views".utf8), outputByteCount: 32)
    }

    /// The session the request came with, as stored (its hash); views and forms belong to it.
    private func owner(_ request: Request) -> String? { request.cookie(sessionCookie).map(OpaqueToken.hash) }

    /// Keeps `text` for the next view of this session; answers the id to put in the redirect.
    func keep(_ text: String, for request: Request) async throws -> String {
        guard let owner = owner(request), let sealed = try AES.GCM.seal(Data(text.utf8), using: key).combined else {
            throw AppError.internalError
        }
        let id = OpaqueToken.generate(byteCount: 16)
        try await store.keep(id: id, owner: owner, sealed: sealed, until: clock.now.addingTimeInterval(Self.lifetime))
        return id
    }

    /// What `keep` kept under `id` for this session, once; `nil` after that, for another session, or late.
    func take(_ id: String?, for request: Request) async throws -> String? {
        guard let id, id.utf8.count <= 64, let owner = owner(request),
              let sealed = try await store.take(id: id, owner: owner, now: clock.now),
              let opened = try? AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key)
        else { return nil }
        return String(decoding: opened, as: UTF8.self)
    }

    /// A new single-use token for a form.
    static func formToken() -> String { OpaqueToken.generate(byteCount: 16) }

    /// Runs `make` once per form token: a second submission of the same form answers `again` with what
    /// the first one made (empty while it is still under way) instead. A refused submission (`make`
    /// throws, or answers no result) gives the token back, so the corrected form can be sent. Without a
    /// token (an old page) `make` just runs.
    func once(formToken: String?, request: Request, make: () async throws -> (result: String?, response: Response),
              again: (String) -> Response) async throws -> Response {
        guard let formToken, !formToken.isEmpty, formToken.utf8.count <= 64, let owner = owner(request) else { return try await make().response }
        if let earlier = try await store.claim(formToken: formToken, owner: owner, until: clock.now.addingTimeInterval(Self.lifetime)) {
            return again(earlier)
        }
        let made: (result: String?, response: Response)
        do {
            made = try await make()
        } catch {
            try? await store.release(formToken: formToken)
            throw error
        }
        if let result = made.result {
            try await store.record(formToken: formToken, result: result)
        } else {
            try await store.release(formToken: formToken)
        }
        return made.response
    }
}
