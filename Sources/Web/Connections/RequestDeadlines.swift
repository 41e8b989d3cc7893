import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// How long a client may take over each part of a request, and how a connection is closed when the
/// server answers before it has read the whole request.
public struct ConnectionLimits: Sendable {
    /// A connection that completes no request head or body part for this long (an idle keep-alive, a
    /// connect-only socket) is closed; Hummingbird's own connection state handler applies it.
    public var idleTimeout: TimeAmount
    /// From the first byte of a request head to its blank line (RFC 9112 §2.2): a head that trickles
    /// in (slowloris) is answered 408 and closed.
    public var headTimeout: TimeAmount
    /// The longest pause between body bytes while the server is asking for them.
    public var bodyPauseTimeout: TimeAmount
    /// The whole body, from the end of the head to the end of the body.
    public var bodyTimeout: TimeAmount
    /// After an answer that closes the connection, how long the server still reads (and drops) what
    /// the client sends, so that the client can read the answer before the socket is gone (closing
    /// with unread data would send a reset, which makes the client's system drop the answer).
    public var linger: TimeAmount

    public init(idleTimeout: TimeAmount = .seconds(60), headTimeout: TimeAmount = .seconds(10),
                bodyPauseTimeout: TimeAmount = .seconds(30), bodyTimeout: TimeAmount = .seconds(300),
                linger: TimeAmount = .seconds(2)) {
        self.idleTimeout = idleTimeout
        self.headTimeout = headTimeout
        self.bodyPauseTimeout = bodyPauseTimeout
        self.bodyTimeout = bodyTimeout
        self.linger = linger
    }
}

/// The deadlines of the request being read on one connection, and the closing of a connection whose
/// answer says `Connection: close`. It sits after the HTTP codec (it sees request and response parts)
/// and learns of raw bytes and of the server's wish to read from `ByteWatch`, at the front of the
/// pipeline.
///
/// - A head must be complete `headTimeout` after its first byte; else 408 (RFC 9110 §15.5.9) and close.
/// - A body must be complete `bodyTimeout` after its head, and must not pause for `bodyPauseTimeout`
///   while the server asks for bytes (a server not reading, e.g. waiting for room, is not the
///   client's pause); else the connection is closed (the request's handler sees its body end early).
/// - An answer written before the request's body was read whole (a 413 on its declared length, a 401
///   or 503 on an upload) gets `Connection: close` (RFC 9112 §9.6), since the rest of that body would
///   otherwise have to be read to find the next request. After an answer with `Connection: close`
///   (those, and Hummingbird's 400 for a head it cannot parse) the connection's sending side is shut
///   at once and the socket closed for real after `linger` at most: never left half-closed, holding
///   its descriptor until the client goes away.
///
/// One timer at a time: it is set for the nearest deadline and, when it fires, looks at where the
/// request is then; a request read in one go costs one timer at most.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    enum Phase {
        /// Between requests: Hummingbird's idle timeout applies.
        case waiting
        /// Bytes of a head have come, its end not yet.
        case head(since: NIODeadline)
        /// The head is read, the body is not yet whole.
        case body(since: NIODeadline)
        /// The request is read; the server is answering. No deadline: the server's own work.
        case answering
        /// An answer with `Connection: close` is out; reading and dropping until the socket closes.
        case closing
    }

    let limits: ConnectionLimits
    /// Where the latest request read on this connection is.
    private(set) var phase = Phase.waiting
    /// Requests whose head was read and whose final answer has not ended yet (pipelined requests
    /// queue behind the one being answered).
    private var unanswered = 0
    /// Since when the server has asked for bytes and none came; `nil` while it is not asking.
    private var askingSince: NIODeadline?
    private var closeAfterAnswer = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var context: ChannelHandlerContext?

    init(limits: ConnectionLimits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    // MARK: From `ByteWatch`, at the front of the pipeline

    /// Bytes came from the client.
    func bytesArrived() {
        askingSince = nil
        if case .waiting = phase {
            let now = NIODeadline.now()
            phase = .head(since: now)
            wake(at: now + limits.headTimeout)
        }
    }

    /// The server asks the socket for more bytes.
    func readRequested() {
        guard askingSince == nil else { return }
        let now = NIODeadline.now()
        askingSince = now
        if case .body = phase { wake(at: now + limits.bodyPauseTimeout) }
    }

    // MARK: Request parts

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closing = phase { return }
        switch unwrapInboundIn(data) {
        case .head:
            let now = NIODeadline.now()
            unanswered += 1
            phase = .body(since: now)
            wake(at: now + min(limits.bodyTimeout, limits.bodyPauseTimeout))
        case .body:
            break
        case .end:
            phase = .answering
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .closing = phase, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Response parts

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where response.status.kind != .informational:
            // The answer to the latest request, while its body is still coming (an earlier
            // pipelined request's answer leaves the later request's body alone).
            if unanswered == 1, case .body = phase {
                response.headerFields[.connection] = "close"
                closeAfterAnswer = true
                context.write(wrapOutboundOut(.head(response)), promise: promise)
                return
            }
            if response.headerFields[.connection]?.lowercased() == "close" { closeAfterAnswer = true }
        case .end where closeAfterAnswer:
            closeAfterAnswer = false
            unanswered = max(0, unanswered - 1)
            context.writeAndFlush(data, promise: promise)
            startClosing(context)
            return
        case .end:
            unanswered = max(0, unanswered - 1)
            if unanswered == 0, case .answering = phase { phase = .waiting }
        default:
            break
        }
        context.write(data, promise: promise)
    }

    // MARK: Deadlines

    /// Shuts the sending side now and closes the socket after `linger` at most.
    private func startClosing(_ context: ChannelHandlerContext) {
        if case .closing = phase { return }
        phase = .closing
        context.close(mode: .output, promise: nil)
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        wake(at: .now() + limits.linger)
    }

    /// Makes sure the timer fires no later than `deadline`.
    private func wake(at deadline: NIODeadline) {
        if let timerDeadline, timerDeadline <= deadline, timer != nil { return }
        guard let context else { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let context else { return }
        let now = NIODeadline.now()
        switch phase {
        case .waiting, .answering:
            return
        case .head(let since):
            let deadline = since + limits.headTimeout
            guard now >= deadline else { return wake(at: deadline) }
            // 408 Request Timeout, and close.
            closeAfterAnswer = true
            context.write(wrapOutboundOut(.head(HTTPResponse(status: .requestTimeout, headerFields: [.connection: "close", .contentLength: "0"]))),
                          promise: nil)
            write(context: context, data: wrapOutboundOut(.end(nil)), promise: nil)
        case .body(let since):
            let whole = since + limits.bodyTimeout
            let pause = askingSince.map { $0 + limits.bodyPauseTimeout }
            if now >= whole || pause.map({ now >= $0 }) == true {
                context.close(promise: nil)
            } else {
                wake(at: min(whole, pause ?? whole))
            }
        case .closing:
            context.close(promise: nil)
        }
    }
}

/// At the front of the pipeline: tells `RequestDeadlines` when bytes come from the client and when
/// the server asks for more.
final class ByteWatch: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let deadlines: RequestDeadlines

    init(deadlines: RequestDeadlines) { self.deadlines = deadlines }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadlines.bytesArrived()
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        deadlines.readRequested()
        context.read()
    }
}
