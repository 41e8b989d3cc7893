import Hummingbird
import Storage

extension StorageError: StorageUnavailable {}

/// Turns every error thrown below it into an `AppError` response, so no request ends in a stack
/// trace or an empty 500. Faults are logged with their type only: error values may carry input.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let appError = AppError.from(error)
            if AppError.clientWentAway(error) {
                // Not a fault: a client that broke off its upload, or a connection closed by a deadline.
                context.logger.debug("the client went away before its request was read", metadata: [
                    "error.type": "\(type(of: error))", "path": "\(request.uri.path)",
                ])
            } else if appError == .unavailable {
                // One clear line for the operator; StorageError's text names the cause, never a secret.
                context.logger.error("database unavailable; answering 503", metadata: [
                    "reason": "\(error as? StorageError ?? StorageError.unavailable("\(type(of: error))"))", "path": "\(request.uri.path)",
                ])
            } else if appError == .internalError {
                context.logger.error("request failed", metadata: [
                    "error.type": "\(type(of: error))", "path": "\(request.uri.path)",
                ])
            }
            return try appError.response(from: request, context: context)
        }
    }
}
