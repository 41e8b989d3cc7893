import Storage

/// What an operator and a load balancer look at: `/health` and `/metrics`.
public struct OperationsFeature: Sendable {
    let database: any Database
    let metrics: AppMetrics

    public init(database: any Database, metrics: AppMetrics) {
        self.database = database
        self.metrics = metrics
    }

    public func register(on routes: Routes) { OperationsController(database: database, metrics: metrics).addRoutes(to: routes) }
}
