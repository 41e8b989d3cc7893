import Hummingbird

/// The route table: registers handlers on the router and remembers which methods each path has,
/// so that any other method on a known path answers 405 with `Allow` (RFC 9110 §15.5.6)
/// rather than 404.
public final class Routes {
    typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    let router: Router<AppRequestContext>
    private var methods: [String: Set<HTTPRequest.Method>] = [:]
    private var order: [String] = []

    init(router: Router<AppRequestContext>) { self.router = router }

    func on(_ path: String, _ method: HTTPRequest.Method, _ handler: @escaping Handler) {
        if methods[path] == nil { order.append(path) }
        methods[path, default: []].insert(method)
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }

    func get(_ path: String, _ handler: @escaping Handler) { on(path, .get, handler) }
    func post(_ path: String, _ handler: @escaping Handler) { on(path, .post, handler) }
    func put(_ path: String, _ handler: @escaping Handler) { on(path, .put, handler) }
    func patch(_ path: String, _ handler: @escaping Handler) { on(path, .patch, handler) }
    func delete(_ path: String, _ handler: @escaping Handler) { on(path, .delete, handler) }

    /// Adds the 405 answers; call once, after every route is registered.
    func finish() {
        let candidates: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        for path in order {
            guard let registered = methods[path] else { continue }
            var allowed = registered
            if allowed.contains(.get) { allowed.insert(.head) }
            let allowList = candidates.filter { allowed.contains($0) }.map(\.rawValue)
            for method in candidates where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw AppError.methodNotAllowed(allowed: allowList)
                }
            }
        }
    }
}
