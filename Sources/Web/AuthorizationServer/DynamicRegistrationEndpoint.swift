import Foundation
import HTTPParsing
import Hummingbird
import OAuthCore

/// Dynamic client registration (SPEC §6): `POST /oauth2/register` (RFC 7591) and the registration
/// access token's read, update and delete at `/oauth2/register/{client_id}` (RFC 7592), under
/// `GATEHOUSE_DYNAMIC_REGISTRATION`. Apps registered here are marked as registered by themselves,
/// count against the portal's app limit (at most half of it), and are managed by admins in
/// Developer Tools. Attempts are limited per client address (an IPv4 address or an IPv6 /64),
/// counted in the database.
struct DynamicRegistrationEndpoint {
    let store: any ClientStore
    let throttle: any RegistrationThrottle
    let limits: ClientLimits
    let policy: DynamicRegistrationPolicy
    let attemptsPerHour: Int
    let issuer: String
    let revoker: Revoker
    let clock: any TimeSource

    /// The largest registration request read.
    static let bodyLimit = 64 * 1024

    func addRoutes(to routes: RouteGroup) {
        guard policy != .off else { return }
        // A registration endpoint is public and takes no cookie, so any origin may call it (a browser-based
        // client registers from its own page); credentials are never allowed.
        routes.on("/register", .options, .anyone) { request, _ in Self.preflight(request, methods: "POST") }
        routes.on("/register/:client_id", .options, .anyone) { request, _ in Self.preflight(request, methods: "GET, PUT, DELETE") }
        routes.post("/register", .anyone) { request, context in
            try await answer(request, context) {
                guard try await throttle.admit(address: Self.addressKey(context.clientAddress), at: clock.now, window: 3600, limit: attemptsPerHour)
                else { throw RegistrationRefusal.tooMany }
                let decided = try DynamicRegistration.decide(try await Self.object(request), policy: policy).get()
                return try await register(decided)
            }
        }
        routes.get("/register/:client_id", .anyone) { request, context in
            try await answer(request, context) {
                let client = try await registered(request, context)
                return try noStoreJSON(Self.metadata(client, issuer: issuer, registrationToken: try await reissue(client)))
            }
        }
        routes.put("/register/:client_id", .anyone) { request, context in
            try await answer(request, context) {
                let client = try await registered(request, context)
                let object = try await Self.object(request)
                // RFC 7592 §2.2: the request names the client it updates.
                guard object["client_id"] as? String == client.clientID.rawValue else {
                    throw OAuthError("invalid_client_metadata", "client_id must be sent, and be this app's.")
                }
                // Re-checked against the policy, as a new registration would be (SPEC §6).
                let decided = try DynamicRegistration.decide(object, policy: policy).get()
                guard decided.authMethod == Self.authMethod(client) else {
                    throw OAuthError("invalid_client_metadata", "token_endpoint_auth_method cannot change from \(Self.authMethod(client)).")
                }
                var input = decided.input
                // An update never widens the scopes the app holds (an admin may have narrowed them).
                let held = Set(client.scopes)
                input.scopes = (input.scopes ?? []).filter(held.contains)
                guard !(input.scopes ?? []).isEmpty else {
                    throw OAuthError("invalid_client_metadata", "An update may keep or narrow the app's scopes (\(client.scopes.joined(separator: " "))), never widen them.")
                }
                if case .unchanged? = input.logo, let current = try await store.logo(client.clientID) { input.logo = .unchanged(current) }
                let registration = try Self.validated(input)
                var updated = client
                updated.apply(registration)
                updated.modifiedOn = clock.now
                updated.modifiedBy = client.clientID.rawValue
                guard try await store.update(updated, logo: nil, stamp: ChangeStamp(actorID: client.clientID.rawValue, at: clock.now),
                                             changedFields: ClientManagement.changedFields(from: client, to: updated))
                else { throw RegistrationRefusal.unknown }
                return try noStoreJSON(Self.metadata(updated, issuer: issuer, registrationToken: try await reissue(client)))
            }
        }
        routes.delete("/register/:client_id", .anyone) { request, context in
            try await answer(request, context) {
                let client = try await registered(request, context)
                // RFC 7592 §2.3: the app and every token it holds end.
                guard try await revoker.revoke(.client(client.clientID), write: { now, _ in
                    try await store.delete(client.clientID, stamp: ChangeStamp(actorID: client.clientID.rawValue, at: now))
                }) else { throw RegistrationRefusal.unknown }
                return Response(status: .noContent, headers: [.cacheControl: "no-store"])
            }
        }
    }

    /// A refusal of the registration endpoint that is not an RFC 7591 §3.2.2 error.
    enum RegistrationRefusal: Error {
        case tooMany
        /// RFC 7592 §2: a missing or wrong registration access token, or an app that is gone.
        case unknown
    }

    private func answer(_ request: Request, _ context: AppRequestContext, _ body: () async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await body()
        } catch let error as OAuthError {
            response = try error.response(from: request, context: context)
        } catch RegistrationRefusal.tooMany {
            response = try OAuthError("slow_down", "Too many registrations from this address; try again in an hour.").response(from: request, context: context)
            response.status = .tooManyRequests
            response.headers[.retryAfter] = "3600"
        } catch RegistrationRefusal.unknown {
            response = try OAuthError.invalidToken("The registration access token is missing or wrong, or the app no longer exists (RFC 7592 §2).")
                .response(from: request, context: context)
        }
        if request.headers.value(.origin) != nil {
            response.headers[.accessControlAllowOrigin] = "*"
            response.headers[.vary] = "Origin"
        }
        return response
    }

    static func preflight(_ request: Request, methods: String) -> Response {
        var response = Response(status: .noContent)
        guard request.headers.value(.origin) != nil else { return response }
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.accessControlAllowMethods] = methods
        response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
        response.headers[.accessControlMaxAge] = "600"
        return response
    }

    private func register(_ decided: DynamicRegistration.Decided) async throws -> Response {
        let registration = decided.registration
        let now = clock.now
        let secret = decided.confidential ? ClientManagement.makeSecret() : nil
        let registrationToken = OpaqueToken.generate()
        let id = ClientID.generate()
        var client = RegisteredClient(
            clientID: id, settings: .empty, logoFormat: .svg, logoVersion: "", enabled: true, secretHash: secret.map(OpaqueToken.hash) ?? "",
            createdOn: now, createdBy: "", modifiedOn: now, modifiedBy: id.rawValue, registrar: .app,
            registrationTokenHash: OpaqueToken.hash(registrationToken)
        )
        client.apply(registration)
        do {
            try await store.create(client, logo: registration.logo, limits: limits)
        } catch let reached as ClientLimitReached {
            throw OAuthError("invalid_client_metadata", reached.sentence(forAppsThat: "that registers itself"))
        }
        return try noStoreJSON(DynamicRegistration.Response(
            client: client, secret: secret, registrationToken: registrationToken, registrationURI: Self.registrationURI(id, issuer: issuer),
            authMethod: decided.authMethod
        ), status: .created)
    }

    /// The app a registration access token is for (RFC 7592 §3), compared in constant time on hashes.
    private func registered(_ request: Request, _ context: AppRequestContext) async throws -> RegisteredClient {
        guard let rawID = context.parameters.get("client_id"), let id = ClientID(validating: rawID),
              let header = request.headers[.authorization], let token = AuthorizationHeader.credentials(header, scheme: "bearer"),
              let client = try await store.find(id), let expected = client.registrationTokenHash,
              ConstantTime.equals(OpaqueToken.hash(String(token)), expected)
        else { throw RegistrationRefusal.unknown }
        return client
    }

    static func validated(_ input: ClientRegistrationInput) throws -> ValidRegistration {
        switch ClientRegistrationValidator.validate(input) {
        case .success(let registration): return registration
        case .failure(let errors): throw OAuthError("invalid_client_metadata", errors.errors.map(\.message).joined(separator: " "))
        }
    }

    static func authMethod(_ client: RegisteredClient) -> String { client.isPublicOnly ? "none" : "client_secret_basic" }

    static func registrationURI(_ id: ClientID, issuer: String) -> String { issuer + "/oauth2/register/" + id.rawValue }

    /// RFC 7592 §3: a read or update answers with the registration access token, which is kept only as a
    /// hash — so a new one is issued, and the one used ends.
    private func reissue(_ client: RegisteredClient) async throws -> String {
        let next = OpaqueToken.generate()
        guard let current = client.registrationTokenHash,
              try await store.replaceRegistrationToken(client.clientID, current: current, next: OpaqueToken.hash(next))
        else { throw RegistrationRefusal.unknown }
        return next
    }

    static func metadata(_ client: RegisteredClient, issuer: String, registrationToken: String) -> DynamicRegistration.Response {
        DynamicRegistration.Response(client: client, secret: nil, registrationToken: registrationToken,
                                     registrationURI: registrationURI(client.clientID, issuer: issuer), authMethod: authMethod(client))
    }

    /// The request's JSON object (RFC 7591 §3.1), or `invalid_client_metadata`.
    static func object(_ request: Request) async throws -> [String: Any] {
        guard RequestBody.mediaType(request) == "application/json" else {
            throw OAuthError("invalid_client_metadata", "The request must be application/json (RFC 7591 §3.1).")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await RequestBody.collect(request, limit: bodyLimit)
        } catch {
            throw OAuthError("invalid_client_metadata", "The request is larger than \(bodyLimit / 1024) KB.")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw OAuthError("invalid_client_metadata", "The request must be a JSON object of client metadata.")
        }
        return object
    }

    /// Whom the rate limit counts: an IPv4 address, or the /64 of an IPv6 address (one subscriber's network).
    /// Written forms are normalized first: brackets and ports dropped, an IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`, a dual-stack socket's view of an IPv4 client) counted as its IPv4 address.
    static func addressKey(_ written: String) -> String {
        var address = written.trimmingCharacters(in: .whitespaces)
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") {
            address = String(address[address.index(after: address.startIndex)..<end])
        } else if address.filter({ $0 == ":" }).count == 1, let colon = address.firstIndex(of: ":") {
            address = String(address[..<colon])  // a.b.c.d:port
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return Self.text(of: v4) }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        return bytes.prefix(8).map { String(format: "%02x", $0) }.joined() + "::/64"
    }

    private static func text(of address: in_addr) -> String {
        withUnsafeBytes(of: address.s_addr) { $0.map(String.init).joined(separator: ".") }
    }
}
