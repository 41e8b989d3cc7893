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
    /// How long a form's token is remembered: long past any Back button and resend.
    static let formLifetime: TimeInterval = 86_400
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

    /// Keeps `text` for the next view of this session; answers the id to put in the redirect. `purpose`
    /// (what it is and whose, e.g. an app's client id) is sealed with it as authenticated data, so the
    /// view opens only where it was meant to be shown.
    func keep(_ text: String, purpose: String, for request: Request) async throws -> String {
        guard let owner = owner(request),
              let sealed = try AES.GCM.seal(Data(text.utf8), using: key, authenticating: Data(purpose.utf8)).combined
        else { throw AppError.internalError }
        let id = OpaqueToken.generate(byteCount: 16)
        try await store.keep(id: id, owner: owner, sealed: sealed, until: clock.now.addingTimeInterval(Self.lifetime))
        return id
    }

    /// What `keep` kept under `id` for this session and `purpose`, once; `nil` after that, for another
    /// session or purpose, or late.
    func take(_ id: String?, purpose: String, for request: Request) async throws -> String? {
        guard let id, id.utf8.count <= 64, let owner = owner(request),
              let sealed = try await store.take(id: id, owner: owner, now: clock.now),
              let box = try? AES.GCM.SealedBox(combined: sealed),
              let opened = try? AES.GCM.open(box, using: key, authenticating: Data(purpose.utf8))
        else { return nil }
        return String(decoding: opened, as: UTF8.self)
    }

    /// A new single-use token for a form.
    static func formToken() -> String { OpaqueToken.generate(byteCount: 16) }

    /// Runs `make` once per form token. `make` answers where to send the browser (`result`, the address
    /// of the page that shows what it made, its one view included) or, for a refused form, no result
    /// and the page to show. A second submission of the same form is sent to the first one's address
    /// (waiting a few seconds while the first is under way), so a double click never loses the new
    /// secret; `otherwise` when there is none. A refused submission gives the token back, so the
    /// corrected form can be sent; after an error of ours the token stays used, so a retry cannot make
    /// a second one. Without a token (an old page) `make` just runs.
    func once(formToken: String?, request: Request, otherwise: String,
              make: () async throws -> (result: String?, response: Response)) async throws -> Response {
        guard let formToken, !formToken.isEmpty, formToken.utf8.count <= 64, let owner = owner(request) else { return try await make().response }
        let until = clock.now.addingTimeInterval(Self.formLifetime)
        if var earlier = try await store.claim(formToken: formToken, owner: owner, until: until) {
            for _ in 0..<30 where earlier.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                earlier = try await store.claim(formToken: formToken, owner: owner, until: until) ?? ""
            }
            return .seeOther(earlier.isEmpty ? otherwise : earlier)
        }
        let made: (result: String?, response: Response)
        do {
            made = try await make()
        } catch let refusal as AppError where refusal.status.code < 500 {
            try? await store.release(formToken: formToken)
            throw refusal
        }
        if let result = made.result {
            try await store.record(formToken: formToken, result: result)
        } else {
            try await store.release(formToken: formToken)
        }
        return made.response
    }
}
