import Hummingbird
import NIOCore
import OAuthCore
import PortalCore

/// A person's own session or portal token.
public struct SignedIn: Sendable {
    /// The person.
    public var person: Person
    /// The session or portal token they came with.
    public var session: Session
}

/// The request context of every Gatehouse route.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is calling, as the route's gate established it (`RouteGate`); `nil` for nobody, and on
    /// routes declared `.anyone`, where the gate does not look.
    public var caller: Caller?
    /// The person's own session or portal token; `nil` for nobody and for an app with an access token.
    public var signedIn: SignedIn? { caller?.signedIn }
    /// The client's IP address: the TCP peer, or what a trusted proxy says in `X-Forwarded-For`.
    /// Read from the channel only when asked (throttling, audit): that takes a lock and formats the
    /// address, which most requests never need.
    public var clientAddress: String {
        get { forwardedAddress ?? channel.remoteAddress?.ipAddress ?? "local" }
        set { forwardedAddress = newValue }
    }
    /// The browser session of the request, read only when asked: the token endpoint's
    /// `personal_access_token` grant needs it, its other grants never (set by the route's gate).
    var browserSession: (@Sendable () async throws -> SignedIn?)?
    /// The connection the request came on (for its peer address and interim responses).
    let channel: any Channel
    private var forwardedAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Request bodies are read with explicit limits by each route; this is the outer bound.
    public var maxUploadSize: Int { 1024 * 1024 }
}

extension PersonID {
    /// The person as the authorization server names them (the `sub` claim).
    var subject: SubjectID { SubjectID(rawValue: rawValue) }
}

extension SubjectID {
    /// The portal's person with this `sub`.
    var person: PersonID { PersonID(rawValue: rawValue) }
}
