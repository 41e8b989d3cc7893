import Foundation
import OAuthCore
import Synchronization

/// Apps known by a Client ID Metadata Document (SPEC §6, draft-ietf-oauth-client-id-metadata-document).
/// When `/oauth2/authorize` names a `client_id` URL, the document is fetched (under the outbound rules
/// of `OutboundFetcher`, at most `fetchesPerHour` per requesting address, counted in the database) and
/// read by `ClientMetadataDocument`; the app it describes is kept here while the copy is fresh (its
/// `Cache-Control`, 1 minute to 24 hours). The app gets a row only on first successful use — when a
/// person allowed it and a code is issued — so nobody can fill the app list by merely naming URLs; a row
/// that exists is brought up to a newly fetched document (its scopes never widen: an admin may have
/// narrowed them). Whether an app with a row is enabled is read from the row each time, so an admin's
/// disable holds at once in every process. A refused document is never cached.
public final class ClientMetadataDocuments: Sendable {
    let store: any ClientStore
    let throttle: any RegistrationThrottle
    let fetcher: OutboundFetcher
    let limits: ClientLimits
    let fetchesPerHour: Int
    let clock: any TimeSource
    /// Per document URL: the app it describes (as its row would be) and until when that holds.
    private let fresh = Mutex<[String: (client: RegisteredClient, logo: Icon, until: Date)]>([:])

    public init(store: any ClientStore, throttle: any RegistrationThrottle, fetcher: OutboundFetcher, limits: ClientLimits,
                fetchesPerHour: Int, clock: any TimeSource) {
        self.store = store
        self.throttle = throttle
        self.fetcher = fetcher
        self.limits = limits
        self.fetchesPerHour = fetchesPerHour
        self.clock = clock
    }

    /// Reads the app's document unless a fresh copy is held; `requester` is the client address the fetch
    /// counts against. Throws the `OAuthError` the authorize error page shows (never the document's text).
    func prepare(_ url: ClientID, requester: String) async throws {
        let now = clock.now
        if let until = fresh.withLock({ $0[url.rawValue]?.until }), until > now { return }
        guard try await throttle.admit(address: "document " + DynamicRegistrationEndpoint.addressKey(requester), at: now,
                                       window: 3600, limit: fetchesPerHour)
        else { throw OAuthError("invalid_client", "Too many metadata documents were fetched for this address; try again in an hour.") }
        let fetched: OutboundFetcher.Fetched
        do {
            fetched = try await fetcher.get(url.rawValue)
        } catch {
            throw Refused(error: .invalidClient("The app's metadata document could not be fetched: \(error.description)"), detail: error.detail)
        }
        let decided = try ClientMetadataDocument.read(fetched.body, url: url.rawValue).get()
        let existing = try await store.find(url)
        var client = existing ?? RegisteredClient(
            clientID: url, settings: .empty, logoFormat: .svg, logoVersion: "", enabled: true, secretHash: "",
            createdOn: now, createdBy: "", modifiedOn: now, modifiedBy: url.rawValue, registrar: .document,
            documentAppID: fresh.withLock { $0[url.rawValue]?.client.documentAppID } ?? ClientID.generate().rawValue
        )
        client.apply(decided.registration)
        if let existing { try await update(existing, to: &client, at: now, logo: decided.registration.logo) }
        let until = now.addingTimeInterval(ClientMetadataDocument.cacheLifetime(cacheControl: fetched.cacheControl))
        fresh.withLock { entries in
            if entries.count > 10_000 { entries = entries.filter { $0.value.until > now } }
            entries[url.rawValue] = (client, decided.registration.logo, until)
        }
    }

    /// The app at `url`: its row, or else the one its fresh document describes (no row yet).
    func client(_ url: ClientID) async throws -> RegisteredClient? {
        if let row = try await store.find(url) { return row }
        let now = clock.now
        return fresh.withLock { entries in entries[url.rawValue].flatMap { $0.until > now ? $0.client : nil } }
    }

    /// First successful use: makes the app's row, unless it has one (counted in the self-registered
    /// half of the app limit). Throws `unauthorized_client` when there is no room.
    func persist(_ client: RegisteredClient) async throws {
        guard try await store.find(client.clientID) == nil else { return }
        guard let logo = fresh.withLock({ $0[client.clientID.rawValue]?.logo }) else {
            throw OAuthError("unauthorized_client", "The app's metadata document must be read again; start again from the app.")
        }
        do {
            try await store.create(client, logo: logo, limits: limits)
        } catch let reached as ClientLimitReached {
            throw OAuthError("unauthorized_client", reached.sentence(forAppsThat: "it has not registered"))
        } catch {
            // Another request (or process) made the row at the same moment: theirs stands.
            guard try await store.find(client.clientID) != nil else { throw error }
        }
    }

    /// Brings the row up to the document; its scopes never widen, and enabled stays as an admin left it.
    private func update(_ existing: RegisteredClient, to client: inout RegisteredClient, at now: Date, logo: Icon) async throws {
        let held = Set(existing.scopes)
        client.scopes = client.scopes.filter(held.contains)
        if client.scopes.isEmpty { client.scopes = existing.scopes }
        guard client.settings != existing.settings || client.logoVersion != existing.logoVersion else { return }
        client.modifiedOn = now
        client.modifiedBy = existing.clientID.rawValue
        _ = try await store.update(client, logo: logo, stamp: ChangeStamp(actorID: existing.clientID.rawValue, at: now),
                                   changedFields: ClientManagement.changedFields(from: existing, to: client))
    }

    /// A refusal for the error page with what only the log may say (resolved addresses, the error underneath).
    struct Refused: Error {
        let error: OAuthError
        let detail: String
    }
}

/// The apps the authorization endpoints know (authorize, token, logout, userinfo): those with a row,
/// and — while metadata documents are taken — those a fresh document describes. With documents
/// turned off, apps known by a document are not known at all (SPEC §6: each door can be closed).
struct ClientsWithDocuments: ClientLookup {
    let registered: any ClientLookup
    let documents: ClientMetadataDocuments?

    func find(_ clientID: ClientID) async throws -> RegisteredClient? {
        guard clientID.isDocumentURL else { return try await registered.find(clientID) }
        return try await documents?.client(clientID)
    }
}
