"""Issue 15's second figure, release build on SQLite, one run: GET /oauth2/authorize for an app known by
its Client ID Metadata Document (its copy cached) against the same for an app registered here, both with
a signed-in session up to the consent page (consent to a document app is never remembered, so the
registered app is asked with prompt=consent); the issue asks the document app's rate to be within 1.2 ×
of the registered app's. The document is served over HTTPS on loopback by the interop tests' server
(GATEHOUSE_OUTBOUND_ALLOW_PRIVATE=1 and its CA in GATEHOUSE_OUTBOUND_CA_FILE). Each with the server's
CPU per request.
Run: swift build -c release --product gatehouse && python3 Benchmarks/metadata_document.py [seconds] [connections]
"""
import base64
import os
import re
import sys
import urllib.parse

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "Interop"))

from common import OWNER, Gatehouse  # noqa: E402
from document_server import DocumentServer  # noqa: E402
import oauth_endpoints  # noqa: E402
from oauth_endpoints import CHALLENGE, wrk  # noqa: E402

REDIRECT = "http://127.0.0.1:9/cb"


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    documents = DocumentServer()
    document_url = documents.serve("/bench/app.json", {"client_name": "Bench document app", "redirect_uris": [REDIRECT],
                                                       "scope": "openid files:read"}, max_age=86400)
    server = Gatehouse({"GATEHOUSE_OUTBOUND_ALLOW_PRIVATE": "1", "GATEHOUSE_OUTBOUND_CA_FILE": documents.ca_file})
    oauth_endpoints.SERVER_PID = server.process.pid
    try:
        browser = server.signed_in_browser()
        app = server.register_app(server.portal_token(), REDIRECT, ["openid", "files:read"])
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)

        def url(client_id, **extra):
            return server.base + "/oauth2/authorize?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid files:read", "state": "s",
                "nonce": "n", "code_challenge": CHALLENGE, "code_challenge_method": "S256", **extra})

        registered, document = url(app["client_id"], prompt="consent"), url(document_url)
        for target in (registered, document):
            shown = browser.get(target, allow_redirects=False)
            assert shown.status_code == 200 and 'id="allow"' in shown.text, shown.text[:500]
        script = os.path.join(HERE, "wrk", "session_get.lua")
        print(f"authorize to the consent page, wrk {connections} connections, {seconds} s each, release build on SQLite, 2 cores shared with the client")
        base, errors, p99, _, cpu = wrk(registered, seconds, connections, script, {"GH_COOKIE": cookie})
        print(f"{'registered app (prompt=consent)':40s} {base:9.0f}/s  p99 {p99:>8s}  non-2xx {errors}  server CPU {cpu:.3f} ms/request")
        rate, errors, p99, _, cpu = wrk(document, seconds, connections, script, {"GH_COOKIE": cookie})
        print(f"{'metadata-document app (cached)':40s} {rate:9.0f}/s  p99 {p99:>8s}  non-2xx {errors}  server CPU {cpu:.3f} ms/request"
              f"  ({base / rate:.2f} × the registered app's time per request; fetched {documents.hits['/bench/app.json']} time(s))")
    finally:
        server.stop()
        documents.close()


if __name__ == "__main__":
    main()
