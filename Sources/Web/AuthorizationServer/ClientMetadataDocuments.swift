import Foundation
import OAuthCore
import Synchronization

/// Apps known by a Client ID Metadata Document (SPEC §6, draft-ietf-oauth-client-id-metadata-document).
/// When `/oauth2/authorize` names a `client_id` URL, the document is fetched (under the outbound rules
/// of `OutboundFetcher`, at most `fetchesPerHour` per requesting address, counted in the database),
/// read by `ClientMetadataDocument`, and the app's row made or brought up to date, so that every
/// endpoint after it (authorize's checks, token, introspection) finds an ordinary public client. The
/// document is not fetched again while its copy is fresh (its `Cache-Control`, 1 minute to 24 hours);
/// whether the app is enabled is read from the row each time, so an admin's disable holds at once in
/// every process. A refused document is never cached.
public final class ClientMetadataDocuments: Sendable {
    let store: any ClientStore
    let throttle: any RegistrationThrottle
    let fetcher: OutboundFetcher
    let limits: ClientLimits
    let fetchesPerHour: Int
    let clock: any TimeSource
    /// Per document URL: until when the row holds the document's current content.
    private let fresh = Mutex<[String: Date]>([:])

    public init(store: any ClientStore, throttle: any RegistrationThrottle, fetcher: OutboundFetcher, limits: ClientLimits,
                fetchesPerHour: Int, clock: any TimeSource) {
        self.store = store
        self.throttle = throttle
        self.fetcher = fetcher
        self.limits = limits
        self.fetchesPerHour = fetchesPerHour
        self.clock = clock
    }

    /// Makes sure the app at `url` has a row holding its document's current content, fetching the
    /// document unless a fresh copy was read; `requester` is the client address the fetch counts against.
    /// Throws the `OAuthError` the authorize error page shows.
    func prepare(_ url: ClientID, requester: String) async throws {
        let now = clock.now
        if let until = fresh.withLock({ $0[url.rawValue] }), until > now, try await store.find(url) != nil { return }
        guard try await throttle.admit(address: "document " + DynamicRegistrationEndpoint.addressKey(requester), at: now,
                                       window: 3600, limit: fetchesPerHour)
        else { throw OAuthError("invalid_client", "Too many metadata documents were fetched for this address; try again in an hour.") }
        let fetched: OutboundFetcher.Fetched
        do {
            fetched = try await fetcher.get(url.rawValue)
        } catch {
            throw OAuthError.invalidClient("The app's metadata document at \(url.rawValue) could not be fetched: \(error.description)")
        }
        let decided = try ClientMetadataDocument.read(fetched.body, url: url.rawValue).get()
        try await record(url, decided.registration, at: now)
        let lifetime = ClientMetadataDocument.cacheLifetime(cacheControl: fetched.cacheControl)
        fresh.withLock { entries in
            if entries.count > 10_000 { entries = entries.filter { $0.value > now } }
            entries[url.rawValue] = now.addingTimeInterval(lifetime)
        }
    }

    /// Makes the app's row on first use, or brings its fields up to the document (its scopes never
    /// widen: an admin may have narrowed them). Enabled or not stays as an admin left it.
    private func record(_ url: ClientID, _ registration: ValidRegistration, at now: Date) async throws {
        if var existing = try await store.find(url) {
            let before = existing
            let held = Set(existing.scopes)
            existing.apply(registration)
            existing.scopes = registration.settings.scopes.filter(held.contains)
            if existing.scopes.isEmpty { existing.scopes = before.scopes }
            guard existing.settings != before.settings || existing.logoVersion != before.logoVersion else { return }
            existing.modifiedOn = now
            existing.modifiedBy = url.rawValue
            _ = try await store.update(existing, logo: registration.logo, stamp: ChangeStamp(actorID: url.rawValue, at: now),
                                       changedFields: ClientManagement.changedFields(from: before, to: existing))
            return
        }
        var client = RegisteredClient(
            clientID: url, settings: .empty, logoFormat: .svg, logoVersion: "", enabled: true, secretHash: "",
            createdOn: now, createdBy: "", modifiedOn: now, modifiedBy: url.rawValue, registrar: .document,
            documentAppID: ClientID.generate().rawValue
        )
        client.apply(registration)
        do {
            try await store.create(client, logo: registration.logo, limits: limits)
        } catch let reached as ClientLimitReached {
            let message = switch reached {
            case .selfRegistered(let n): "This portal has no room for another app it has not registered (at most \(n)); ask its admin."
            case .portal(let n), .person(let n): "This portal has its maximum of \(n) apps; ask its admin."
            }
            throw OAuthError.invalidClient(message)
        } catch {
            // Another request (or process) made the row at the same moment: theirs stands.
            guard try await store.find(url) != nil else { throw error }
        }
    }
}
