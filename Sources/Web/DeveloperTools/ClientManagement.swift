import Foundation
import OAuthCore
import PortalCore

/// The rules of managing apps, shared by the REST API and the pages: who may see and change
/// which app (admins and the owner every app, users their own, guests none), the limits, the
/// secret (shown once, stored as its SHA-256), and the audit trail.
struct ClientManagement: Sendable {
    let store: any ClientStore
    let limits: ClientLimits
    let clock: any TimeSource
    let revoker: Revoker

    /// An app that was just made or got a new secret, with the secret in clear this once.
    struct WithSecret: Sendable {
        let client: RegisteredClient
        let secret: String
    }

    /// RFC 6749 §10.10 / §2.3.1: a client secret of 256 bits from the CSPRNG.
    static func makeSecret() -> String { OpaqueToken.generate(byteCount: 32) }

    func create(_ input: ClientRegistrationInput, by person: Person) async throws -> WithSecret {
        guard person.role != .guest else { throw AppError.forbidden("Guests cannot register apps.") }
        let registration = try Self.validated(input)
        let now = clock.now
        let secret = Self.makeSecret()
        var client = RegisteredClient(
            clientID: .generate(), settings: .empty, logoFormat: .png, logoVersion: "", enabled: true, secretHash: OpaqueToken.hash(secret),
            createdOn: now, createdBy: person.id.rawValue, modifiedOn: now, modifiedBy: person.id.rawValue
        )
        client.apply(registration)
        do {
            try await store.create(client, logo: registration.logo, limits: limits)
        } catch ClientLimitReached.portal(let limit) {
            throw AppError.badRequest("This portal already has the maximum of \(limit) apps. Delete one before registering another.")
        } catch ClientLimitReached.person(let limit) {
            throw AppError.badRequest("You already have the maximum of \(limit) apps. Delete one before registering another.")
        }
        return WithSecret(client: client, secret: secret)
    }

    /// The app if `person` may manage it; 404 otherwise, so that nobody learns which ids exist.
    func manageable(_ rawID: String, by person: Person) async throws -> RegisteredClient {
        guard let client = try await store.find(managedID: rawID),
              Self.mayManage(client, person)
        else { throw AppError.notFound }
        return client
    }

    static func mayManage(_ client: RegisteredClient, _ person: Person) -> Bool {
        switch person.role {
        case .owner, .admin: true
        case .user: client.createdBy == person.id.rawValue
        case .guest: false
        }
    }

    /// A page of the apps `person` may see, oldest first, after `cursor`.
    func list(for person: Person, after cursor: ClientPageCursor?, limit: Int) async throws -> [RegisteredClient] {
        switch person.role {
        case .guest: []
        case .owner, .admin: try await store.list(createdBy: nil, after: cursor, limit: limit)
        case .user: try await store.list(createdBy: person.id.rawValue, after: cursor, limit: limit)
        }
    }

    /// Applies `input` over the app's current values (missing fields keep theirs).
    func update(_ rawID: String, _ input: ClientRegistrationInput, by person: Person) async throws -> RegisteredClient {
        let current = try await manageable(rawID, by: person)
        var merged = input.filled(from: current.settings)
        // An app that registered itself keeps the relaxed rules when an admin edits it (SPEC §6).
        merged.relaxed = current.registrar.isSelfAsserted
        // An app without a secret can only sign people in with PKCE.
        if current.isPublicOnly { merged.allowPKCE = true }
        var newLogo: Icon?
        if input.logo == nil {
            guard let icon = try await store.logo(current.clientID) else { throw AppError.notFound }
            merged.logo = .unchanged(icon)
        }
        let registration = try Self.validated(merged)
        if input.logo != nil { newLogo = registration.logo }
        var client = current
        client.apply(registration)
        client.modifiedOn = clock.now
        client.modifiedBy = person.id.rawValue
        let changed = Self.changedFields(from: current, to: client)
        guard try await store.update(client, logo: newLogo, stamp: stamp(person), changedFields: changed) else {
            throw AppError.notFound
        }
        return client
    }

    func regenerateSecret(_ rawID: String, by person: Person) async throws -> WithSecret {
        var client = try await manageable(rawID, by: person)
        guard !client.isPublicOnly else {
            throw AppError.badRequest("This app registered itself as a public client (PKCE, no secret); it cannot be given a secret.")
        }
        let secret = Self.makeSecret()
        client.secretHash = OpaqueToken.hash(secret)
        guard try await store.replaceSecret(client.clientID, secretHash: client.secretHash, stamp: stamp(person)) else {
            throw AppError.notFound
        }
        return WithSecret(client: client, secret: secret)
    }

    func setEnabled(_ rawID: String, _ enabled: Bool, by person: Person) async throws -> RegisteredClient {
        var client = try await manageable(rawID, by: person)
        // The store ends the app's tokens in the same transaction when it disables it.
        let changed = enabled
            ? try await store.setEnabled(client.clientID, enabled, stamp: stamp(person))
            : try await revoker.revoke(.client(client.clientID)) { now, _ in
                try await store.setEnabled(client.clientID, enabled, stamp: ChangeStamp(actorID: person.id.rawValue, at: now))
            }
        guard changed else { throw AppError.notFound }
        client.enabled = enabled
        return client
    }

    func delete(_ rawID: String, by person: Person) async throws {
        let client = try await manageable(rawID, by: person)
        // The store's cut-off and this process's are the same instant.
        guard try await revoker.revoke(.client(client.clientID), write: { now, _ in
            try await store.delete(client.clientID, stamp: ChangeStamp(actorID: person.id.rawValue, at: now))
        }) else { throw AppError.notFound }
    }

    private func stamp(_ person: Person) -> ChangeStamp { ChangeStamp(actorID: person.id.rawValue, at: clock.now) }

    static func validated(_ input: ClientRegistrationInput) throws -> ValidRegistration {
        switch ClientRegistrationValidator.validate(input) {
        case .success(let registration): return registration
        case .failure(let errors): throw AppError.validation(errors)
        }
    }

    /// The settings that changed, and the icon when it did, by their API names (for the audit log).
    static func changedFields(from old: RegisteredClient, to new: RegisteredClient) -> [String] {
        new.settings.changed(from: old.settings).map(\.rawValue) + (old.logoVersion != new.logoVersion ? ["logo"] : [])
    }
}
