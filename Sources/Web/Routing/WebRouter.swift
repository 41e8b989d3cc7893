import Hummingbird

/// The router with the middleware every answer passes through. None of it looks at the path or
/// depends on where a route was added; who may call a route is the route's own declaration.
public enum WebRouter {
    public static func make(metrics: AppMetrics, trustedProxies: Set<String>) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self, options: [.autoGenerateHeadEndpoints])
        // Outermost first: metrics see the final status; security headers go on error pages too; the
        // error middleware turns every thrown error into a response inside them.
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ExpectContinueMiddleware())
        if !trustedProxies.isEmpty { router.add(middleware: TrustedProxyMiddleware(trusted: trustedProxies)) }
        router.add(middleware: ErrorMiddleware())
        return router
    }
}
