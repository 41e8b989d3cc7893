import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// The process's Prometheus registry and the HTTP instruments in it.
public final class AppMetrics: Sendable {
    /// Everything `/metrics` shows.
    public let registry = PrometheusCollectorRegistry()

    /// Creates an empty registry.
    public init() {}

    private struct RequestKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    /// The counter and histogram of each method, route and status seen, so a request costs a lookup
    /// here rather than building descriptors and labels for the registry (bounded by the routes).
    private let requestInstruments = Mutex<[RequestKey: (counter: Counter, latency: DurationHistogram)]>([:])

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        .seconds(5),
    ]

    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "http_requests", unitName: "total", helpText: "HTTP requests by method, route pattern and status.")
    }
    static var latency: MetricNameDescriptor {
        MetricNameDescriptor(
        metricName: "http_request_duration", unitName: "seconds", helpText: "Time to answer an HTTP request, by route pattern."
        )
    }

    static var tokens: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "oauth_tokens_issued", unitName: "total", helpText: "Token responses by grant type and app.")
    }
    static var oauthErrors: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "oauth_errors", unitName: "total", helpText: "OAuth error answers by error code.")
    }

    /// Counters already made, by metric name and label values (the hot paths count on every request).
    private let counters = Mutex<[[String]: Counter]>([:])

    private func counter(_ descriptor: @autoclosure () -> MetricNameDescriptor, _ name: String, _ labels: [(String, String)]) -> Counter {
        let key = [name] + labels.map(\.1)
        if let counter = counters.withLock({ $0[key] }) { return counter }
        let counter = registry.makeCounter(descriptor: descriptor(), labels: labels)
        counters.withLock { $0[key] = counter }
        return counter
    }

    /// One token response (access token, refresh token, maybe an ID token).
    func tokenIssued(grantType: String, clientID: String) {
        counter(Self.tokens, "tokens", [("grant_type", grantType), ("client_id", clientID)]).increment()
    }

    static var housekeepingDeleted: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "housekeeping_deleted_rows", unitName: "total", helpText: "Rows deleted by housekeeping, by table.")
    }
    static var housekeepingPause: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "housekeeping_batch_duration", unitName: "seconds",
                             helpText: "Time each housekeeping batch held the write lock.")
    }

    /// One housekeeping sweep: rows deleted per table and its longest batch.
    public func housekeepingSwept(deleted: [String: Int], longestBatch: Duration) {
        for (table, count) in deleted where count > 0 {
            registry.makeCounter(descriptor: Self.housekeepingDeleted, labels: [("table", table)]).increment(by: Int64(count))
        }
        registry.makeDurationHistogram(descriptor: Self.housekeepingPause, labels: [], buckets: Self.latencyBuckets)
            .recordNanoseconds(longestBatch.nanoseconds)
    }

    static var authorizeOutcomes: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "oauth_authorize_outcomes", unitName: "total",
                             helpText: "Answers of /oauth2/authorize: code, consent, sign_in, error_redirect (with its error) or error_page.")
    }

    /// One answer of the authorization endpoint.
    func authorizeOutcome(_ outcome: String, error: String = "") {
        counter(Self.authorizeOutcomes, "authorize", [("outcome", outcome), ("error", error)]).increment()
    }

    /// One OAuth error answer.
    func oauthError(_ code: String) {
        counter(Self.oauthErrors, "errors", [("error", code)]).increment()
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let key = RequestKey(method: method, route: route, status: status)
        let instruments = requestInstruments.withLock { $0[key] } ?? {
            let made = (
                counter: registry.makeCounter(
                    descriptor: Self.requests, labels: [("method", method), ("route", route), ("status", String(status))]),
                latency: registry.makeDurationHistogram(
                    descriptor: Self.latency, labels: [("route", route)], buckets: Self.latencyBuckets)
            )
            requestInstruments.withLock { $0[key] = made }
            return made
        }()
        instruments.counter.increment()
        instruments.latency.recordNanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Counts requests by route and status and times them; logs one line per request with its id.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: AppMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let duration = ContinuousClock.now - start
        // The route pattern, never the concrete path: ids in paths would make labels unbounded.
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(method: request.method.rawValue, route: route, status: response.status.code, duration: duration)
        context.logger.debug("request", metadata: [
            "method": "\(request.method.rawValue)", "route": "\(route)", "status": "\(response.status.code)",
        ])
        return response
    }
}
