"""Issue 15's first figure, release build on SQLite, one run: `tools/call whoami` through /mcp with a token
issued for /mcp, against GET /api/2.0/people/@self with a token for the API (the issue asks for at least
0.5 × its rate), each with the server's CPU per request.
Run: swift build -c release --product gatehouse && python3 Benchmarks/mcp.py [seconds] [connections]
"""
import os
import re
import sys
import urllib.parse

import requests

from common import OWNER, Gatehouse
import oauth_endpoints
from oauth_endpoints import CHALLENGE, VERIFIER, wrk
from portal_api import oauth_token


# A native app's loopback redirect (the default registration policy takes no other).
REDIRECT = "http://127.0.0.1:9/cb"


def mcp_token(server, portal):
    """The code flow with resource=<public>/mcp (RFC 8707) for an app registered by hand."""
    browser = server.signed_in_browser()
    registered = requests.post(server.base + "/oauth2/register", json={
        "redirect_uris": [REDIRECT], "client_name": "Bench MCP", "token_endpoint_auth_method": "none", "scope": "accounts.self:read"}).json()
    query = urllib.parse.urlencode({"response_type": "code", "client_id": registered["client_id"], "redirect_uri": REDIRECT,
                                    "scope": "accounts.self:read", "state": "s", "code_challenge": CHALLENGE,
                                    "code_challenge_method": "S256", "resource": server.base + "/mcp"})
    first = browser.get(server.base + "/oauth2/authorize?" + query, allow_redirects=False)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', first.text))
    fields = {k: v.replace("&amp;", "&").replace("&#x3D;", "=").replace("&#x2F;", "/") for k, v in fields.items()}
    location = browser.post(server.base + "/oauth2/authorize", data={**fields, "consent": "allow"}, allow_redirects=False).headers["Location"]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    return requests.post(server.base + "/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER,
        "client_id": registered["client_id"]}).json()["access_token"]


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    server = Gatehouse()
    oauth_endpoints.SERVER_PID = server.process.pid
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        portal = server.portal_token()
        api_token, mcp = oauth_token(server, portal), mcp_token(server, portal)
        answer = requests.post(server.base + "/mcp", headers={
            "Authorization": "Bearer " + mcp, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})
        assert answer.status_code == 200 and OWNER[0] in answer.text, answer.text
        api_rate, errors, p99, _, cpu = wrk(server.base + "/api/2.0/people/@self", seconds, connections,
                                            os.path.join(here, "wrk", "bearer.lua"), {"GH_TOKEN": api_token})
        print(f"portal API vs MCP, wrk {connections} connections, {seconds} s each, release build on SQLite, 2 cores shared with the client")
        print(f"{'GET /api/2.0/people/@self':40s} {api_rate:9.0f}/s  p99 {p99:>8s}  non-2xx {errors}  server CPU {cpu:.3f} ms/request")
        rate, errors, p99, _, cpu = wrk(server.base + "/mcp", seconds, connections, os.path.join(here, "wrk", "mcp_whoami.lua"), {"GH_TOKEN": mcp})
        print(f"{'POST /mcp tools/call whoami':40s} {rate:9.0f}/s  p99 {p99:>8s}  non-2xx {errors}  server CPU {cpu:.3f} ms/request"
              f"  ({rate / api_rate:.2f} × the API's rate)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
