import Hummingbird
import NIOCore
import PortalCore

/// Who is making a request, once the session middleware has looked.
public struct SignedIn: Sendable {
    /// The person.
    public var person: Person
    /// The session or portal token they came with.
    public var session: Session
}

/// The request context of every Gatehouse route.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The signed-in person, when a valid session cookie or portal token came with the request.
    public var signedIn: SignedIn?
    /// The client's IP address: the TCP peer, or what a trusted proxy says in `X-Forwarded-For`.
    /// Read from the channel only when asked (throttling, audit): that takes a lock and formats the
    /// address, which most requests never need.
    public var clientAddress: String {
        get { forwardedAddress ?? channel.remoteAddress?.ipAddress ?? "local" }
        set { forwardedAddress = newValue }
    }
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
