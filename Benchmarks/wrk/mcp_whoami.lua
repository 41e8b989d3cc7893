-- POST /mcp: tools/call whoami with an access token issued for /mcp (Streamable HTTP, JSON answers).
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
