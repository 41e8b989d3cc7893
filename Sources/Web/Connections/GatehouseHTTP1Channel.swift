import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 channel with Gatehouse's limits: smaller header limits than its defaults,
/// its idle timeout, and `RequestDeadlines` (with `ByteWatch` in front of the HTTP codec) for the
/// head and body deadlines and for closing connections for real.
struct GatehouseHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    /// A request head of at most 100 fields, 16 KiB a field and 32 KiB in all (a large cookie or a
    /// token fits many times over); past them Hummingbird answers 400 and closes.
    static let headLimits = HTTP1Channel.Configuration.DecoderConfiguration(
        maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100)

    let inner: HTTP1Channel
    let limits: ConnectionLimits

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits) {
        self.limits = limits
        self.inner = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [RequestDeadlines(limits: limits)], idleTimeout: limits.idleTimeout,
                                 httpDecoderConfiguration: Self.headLimits))
    }

    var responder: HTTPChannelHandler.Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let deadlines = try channel.pipeline.syncOperations.handler(type: RequestDeadlines.self)
            try channel.pipeline.syncOperations.addHandler(ByteWatch(deadlines: deadlines), position: .first)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with Gatehouse's connection limits.
    public static func gatehouse(_ limits: ConnectionLimits) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in GatehouseHTTP1Channel(responder: responder, limits: limits) }
    }
}
