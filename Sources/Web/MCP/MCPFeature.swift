import Foundation
import HTTPTypes
import Hummingbird
import MCP
import OAuthCore
import PortalCore

/// The MCP server at `/mcp` (SPEC §6): Streamable HTTP with JSON answers (`initialize`,
/// `tools/list`, `tools/call`, `ping`), through `modelcontextprotocol/swift-sdk`'s stateless HTTP
/// transport. Served statelessly: every request gets a `Server` and a transport of its own, so two
/// people's requests never share a server (a shared one refuses a second `initialize`) nor its
/// response waiters (keyed by the JSON-RPC id alone). Only tokens issued for `/mcp` get here (the
/// route's `.mcp` declaration); each tool's scope is decided from the request before it is
/// dispatched, and a missing one is HTTP 403 with the challenge naming it, so a client can step up.
public struct MCPFeature: Sendable {
    let tools: PortalTools
    let resource: ProtectedResource
    let publicOrigin: String
    let clients: any ClientLookup

    /// The largest MCP request read (a text file uploaded through a tool included).
    static let bodyLimit = 4 * 1024 * 1024

    public init(people: any PersonStore, directory: any PeopleDirectory, files: any FileStore, clients: any ClientLookup,
                maxUploadBytes: Int, publicURL: URL, clock: any TimeSource) {
        tools = PortalTools(directory: directory, people: people, files: files, checks: FolderAccessChecks(files: files),
                            uploadLimit: maxUploadBytes, clock: clock)
        resource = .mcp(publicURL: publicURL)
        publicOrigin = origin(of: publicURL)
        self.clients = clients
    }

    public func register(on routes: Routes) {
        routes.post("/mcp", .mcp) { request, context in try await serve(request, context) }
    }

    private func serve(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard case .app(let caller) = context.caller else { throw AppError.unauthorized("An access token for this MCP server is needed.") }
        // MCP's transport rules: a browser's request must come from an origin the app registered (or the portal's own).
        if let requestOrigin = request.headers.value(.origin), requestOrigin != publicOrigin,
           !(try await clients.find(caller.clientID)?.allowedOrigins.contains(requestOrigin) ?? false) {
            throw AppError.forbidden("Requests from \(requestOrigin) are not among this app's allowed origins.")
        }
        let body: Data
        do {
            body = Data(buffer: try await RequestBody.collect(request, limit: Self.bodyLimit))
        } catch {
            throw AppError.payloadTooLarge(limit: Self.bodyLimit)
        }
        // The scope of every tool the request calls, before anything is dispatched (SPEC §6).
        for name in Self.toolsCalled(in: body) {
            guard let definition = PortalTools.byName[name] else { continue }
            let accepted = definition.scope.acceptedScopes
            if !caller.claims.grantsAny(of: accepted) {
                return RouteGate.mcpRefusal(request, context: context, status: .forbidden,
                                            message: "The tool \(name) needs one of: \(accepted.joined(separator: " ")).",
                                            challenge: resource.challenge(error: "insufficient_scope", scope: accepted[0]))
            }
        }
        let person = caller.person
        let tools = tools
        let server = Server(name: "Gatehouse", version: "1.0", title: "Portal documents, folders, rooms and people",
                            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: PortalTools.definitions.map(\.tool)) }
        await server.withMethodHandler(CallTool.self) { parameters in
            await tools.call(parameters.name, arguments: parameters.arguments ?? [:], as: person)
        }
        let transport = StatelessHTTPServerTransport(validationPipeline: StandardValidationPipeline(validators: [
            AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
        ]))
        try await server.start(transport: transport)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let answer = await transport.handleRequest(MCP.HTTPRequest(method: "POST", headers: headers, body: body, path: "/mcp"))
        await server.stop()
        var response = Response(status: .init(code: answer.statusCode), body: .init(byteBuffer: ByteBuffer(bytes: answer.bodyData ?? Data())))
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The tools a JSON-RPC message (or batch) calls.
    static func toolsCalled(in body: Data) -> [String] {
        guard let parsed = try? JSONSerialization.jsonObject(with: body) else { return [] }
        let messages = (parsed as? [Any]) ?? [parsed]
        return messages.compactMap { message in
            guard let object = message as? [String: Any], object["method"] as? String == CallTool.name,
                  let parameters = object["params"] as? [String: Any] else { return nil }
            return parameters["name"] as? String ?? ""
        }
    }
}
