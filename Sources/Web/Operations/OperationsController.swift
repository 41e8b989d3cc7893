import Foundation
import Hummingbird
import Storage

/// `GET /health` and `GET /metrics`: what an operator and a load balancer look at.
struct OperationsController {
    let database: any Database
    let metrics: AppMetrics

    struct Health: Encodable {
        let status: String
        let database: String
    }

    func addRoutes(to routes: Routes) {
        routes.get("/health", .anyone) { _, _ in
            let reachable = await database.ping()
            return try JSONResponse.make(
                Health(status: reachable ? "ok" : "unavailable", database: reachable ? "ok" : "unreachable"),
                status: reachable ? .ok : .serviceUnavailable
            )
        }
        routes.get("/metrics", .operatorOnly) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer()))
            )
        }
    }
}
