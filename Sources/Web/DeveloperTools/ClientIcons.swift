import Foundation
import Hummingbird
import OAuthCore

/// Serves app icons at a stable URL with their true type and a policy under which nothing runs:
/// an SVG opened directly is still a document, so it is sandboxed and may not load or run anything.
struct ClientIcons {
    let store: any ClientStore
    let publicURL: URL

    static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

    /// The absolute URL of an app's icon; the version changes when the icon does.
    func url(for client: RegisteredClient) -> String {
        "\(publicURL.absoluteString)/icons/clients/\(client.id)?v=\(client.logoVersion)"
    }

    /// The same URL relative to this site, for pages.
    static func path(for client: RegisteredClient) -> String {
        "/icons/clients/\(client.id)?v=\(client.logoVersion)"
    }

    func addRoutes(to routes: RouteGroup) {
        routes.get("/clients/:client_id", .anyone) { _, context in
            let id = try context.parameters.require("client_id")
            guard let client = try await store.find(managedID: id),
                  let icon = try await store.logo(client.clientID) else {
                throw AppError.notFound
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: icon.format.contentType,
                    .contentSecurityPolicy: Self.contentSecurityPolicy,
                    .cacheControl: "public, max-age=86400",
                    .contentDisposition: "inline",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: icon.bytes))
            )
        }
    }
}
