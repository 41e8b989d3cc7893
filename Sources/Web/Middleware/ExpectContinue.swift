import HTTPTypes
import HummingbirdCore
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// `Expect: 100-continue` (RFC 9110 §10.1.1): a client that sends it (curl does for uploads) waits
/// for `100 Continue` before sending the content, and without one waits a second or so and then
/// sends it anyway. The interim response goes out when a route first reads the body, so a request
/// refused before that (a bad token, an upload whose `Content-Length` is over the limit) gets its
/// final answer at once and the client never sends the content.
struct ExpectContinueMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let expectation = request.headers.value(.expect), expectation.lowercased() == "100-continue" else {
            return try await next(request, context)
        }
        var request = request
        request.body = HummingbirdCore.RequestBody(asyncSequence: ContinueBeforeContent(content: request.body, channel: context.channel))
        return try await next(request, context)
    }
}

/// A request body that sends `100 Continue` on the connection before its first read.
struct ContinueBeforeContent: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let content: HummingbirdCore.RequestBody
    let channel: any Channel

    struct AsyncIterator: AsyncIteratorProtocol {
        var content: HummingbirdCore.RequestBody.AsyncIterator
        let channel: any Channel
        var continued = false

        mutating func next() async throws -> ByteBuffer? {
            if !continued {
                continued = true
                try await channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue)))
            }
            return try await content.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(content: content.makeAsyncIterator(), channel: channel)
    }
}
