import Foundation
import HTTPTypes
import Hummingbird
import MCP
import OAuthCore
import PortalCore
import Synchronization

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
    /// The memory budget the API's uploads draw on: an MCP request's body is copied several times on its
    /// way through the SDK (about eight times its length is reserved).
    let budget: BodyBudget

    /// The largest MCP request read (a text file uploaded through a tool included).
    static let bodyLimit = 4 * 1024 * 1024

    public init(people: any PersonStore, directory: any PeopleDirectory, files: any FileStore, clients: any ClientLookup,
                maxUploadBytes: Int, budget: BodyBudget, publicURL: URL, clock: any TimeSource) {
        self.budget = budget
        tools = PortalTools(directory: directory, people: people, files: files, checks: FolderAccessChecks(files: files),
                            uploadLimit: maxUploadBytes, clock: clock)
        resource = .mcp(publicURL: publicURL)
        publicOrigin = origin(of: publicURL)
        self.clients = clients
    }

    public func register(on routes: Routes) {
        routes.post("/mcp", .mcp) { request, context in
            let declared = request.headers[.contentLength].flatMap(Int.init).map { min($0, Self.bodyLimit) } ?? Self.bodyLimit
            return try await budget.withReservation(8 * declared) { try await serve(request, context) }
        }
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
        } catch let refusal as AppError where refusal.status == .contentTooLarge {
            throw AppError.payloadTooLarge(limit: Self.bodyLimit)
        }
        // One well-formed JSON-RPC message, read the same way by every reader; its tool's scope is
        // decided before anything is dispatched (SPEC §6), and again on the name the SDK dispatches.
        let message: RPCMessage
        switch RPCMessage.read(body) {
        case .failure(let problem): return Self.rpcError(problem.message)
        case .success(let read): message = read
        }
        if let name = message.tool, let refusal = refusal(tool: name, caller: caller, request, context) { return refusal }
        let person = caller.person
        let tools = tools
        let refusedTool = Mutex<String?>(nil)
        let server = Server(name: "Gatehouse", version: "1.0", title: "Portal documents, folders, rooms and people",
                            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: PortalTools.definitions.map(\.tool)) }
        await server.withMethodHandler(CallTool.self) { parameters in
            guard let definition = PortalTools.byName[parameters.name] else {
                return CallTool.Result(content: [.text(text: "Unknown tool \(parameters.name).", annotations: nil, _meta: nil)], isError: true)
            }
            guard caller.claims.grantsAny(of: definition.scope.acceptedScopes) else {
                refusedTool.withLock { $0 = parameters.name }
                return CallTool.Result(content: [], isError: true)
            }
            return await tools.call(parameters.name, arguments: parameters.arguments ?? [:], as: person)
        }
        let transport = StatelessHTTPServerTransport(validationPipeline: StandardValidationPipeline(validators: [
            AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
        ]))
        try await server.start(transport: transport)
        // A message the server never answers must not hold its request open: stopped after the deadline,
        // the transport releases it.
        let deadline = Task {
            try await Task.sleep(for: Self.deadline)
            await server.stop()
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let answer = await transport.handleRequest(MCP.HTTPRequest(method: "POST", headers: headers, body: body, path: "/mcp"))
        deadline.cancel()
        await server.stop()
        if let name = refusedTool.withLock({ $0 }), let refusal = refusal(tool: name, caller: caller, request, context) { return refusal }
        var response = Response(status: .init(code: answer.statusCode), body: .init(byteBuffer: ByteBuffer(bytes: answer.bodyData ?? Data())))
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// How long one MCP request may take.
    static let deadline: Duration = .seconds(30)

    /// HTTP 403 with the challenge naming the least scope the tool needs, when the token lacks it.
    private func refusal(tool name: String, caller: AppCaller, _ request: Request, _ context: AppRequestContext) -> Response? {
        guard let definition = PortalTools.byName[name] else { return nil }
        let accepted = definition.scope.acceptedScopes
        guard !caller.claims.grantsAny(of: accepted) else { return nil }
        return RouteGate.mcpRefusal(request, context: context, status: .forbidden,
                                    message: "The tool \(name) needs one of: \(accepted.joined(separator: " ")).",
                                    challenge: resource.challenge(error: "insufficient_scope", scope: accepted[0]))
    }

    /// A JSON-RPC error answered over HTTP 400 (JSON-RPC 2.0 §5.1: -32600 invalid request).
    static func rpcError(_ message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: [
            "jsonrpc": "2.0", "id": NSNull(), "error": ["code": -32600, "message": message],
        ] as [String: Any], options: [.sortedKeys])) ?? Data()
        return Response(status: .badRequest, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// One JSON-RPC 2.0 message as this server takes it: a single object with `jsonrpc` "2.0"; a request
/// (`method` with a string or integer `id`), a notification (`method`, no `id`) or a response (`result`
/// or `error` with an `id`), never a mix; and members that matter (`method`, `id`, `params.name`) not
/// repeated with different values, so that every reader (this check, the SDK's transport and its
/// server, which keep different copies of a repeated member) sees the same message.
struct RPCMessage {
    /// The tool a `tools/call` names.
    let tool: String?

    struct Problem: Error {
        let message: String
    }

    enum ID: Decodable, Equatable {
        case string(String)
        case integer(Int)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .string(text)
            } else {
                self = .integer(try container.decode(Int.self))
            }
        }
    }

    /// The members as `JSONDecoder` (and the SDK's server) reads them: the first of repeated ones.
    struct Envelope: Decodable {
        struct Parameters: Decodable { let name: String? }
        let jsonrpc: String?
        let method: String?
        let id: ID?
        let params: Parameters?
    }

    static func read(_ body: Data) -> Result<RPCMessage, Problem> {
        func problem(_ message: String) -> Result<RPCMessage, Problem> { .failure(Problem(message: message)) }
        // The last of repeated members (how the transport reads them).
        guard let last = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return problem("The body must be one JSON-RPC 2.0 message, a JSON object (batches are not taken).")
        }
        guard let first = try? JSONDecoder().decode(Envelope.self, from: body) else {
            return problem("The message's jsonrpc, method, id or params do not have their JSON-RPC types (an id is a string or an integer).")
        }
        guard first.jsonrpc == "2.0", last["jsonrpc"] as? String == "2.0" else { return problem("jsonrpc must be \"2.0\".") }
        let lastParams = last["params"] as? [String: Any]
        guard first.method == last["method"] as? String, first.params?.name == lastParams?["name"] as? String,
              (last["method"] == nil) == (first.method == nil)
        else { return problem("A member of the message is repeated with different values.") }
        if let rawID = last["id"] {
            // (A boolean is refused by the first reading already: JSONDecoder reads no Int from it.)
            let lastID: ID? = (rawID as? String).map(ID.string) ?? (rawID as? NSNumber).flatMap { Int(exactly: $0.doubleValue).map(ID.integer) }
            guard let lastID, lastID == first.id else {
                return problem("The id must be a string or an integer, and not repeated with different values.")
            }
        }
        if first.method != nil {
            guard last["result"] == nil, last["error"] == nil else { return problem("A request or notification carries no result or error.") }
        } else {
            guard first.id != nil, last["result"] != nil || last["error"] != nil else {
                return problem("A message is a request, a notification or a response.")
            }
        }
        guard first.method == CallTool.name else { return .success(RPCMessage(tool: nil)) }
        guard first.id != nil else { return problem("tools/call is a request: it needs an id.") }
        guard let name = first.params?.name, PortalTools.byName[name] != nil else {
            return problem("tools/call names one of this server's tools in params.name.")
        }
        return .success(RPCMessage(tool: name))
    }
}
