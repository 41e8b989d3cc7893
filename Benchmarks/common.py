"""Helpers for the benchmarks: start a release build of Gatehouse on a scratch data folder."""
import base64
import json
import re
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWNER = ("owner@example.com", "owner-password-1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gatehouse:
    """A `gatehouse serve` process on a fresh SQLite file (or GATEHOUSE_DATABASE_URL if set)."""

    def __init__(self, extra_env=None):
        self.binary = os.environ.get("GATEHOUSE_BIN", str(ROOT / ".build" / "release" / "gatehouse"))
        if not Path(self.binary).exists():
            raise SystemExit(f"build it first: swift build -c release --product gatehouse ({self.binary} is missing)")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = tempfile.mkdtemp(prefix="gatehouse-bench-")
        env = dict(os.environ)
        env.update({
            "GATEHOUSE_PORT": str(self.port), "GATEHOUSE_PUBLIC_URL": self.base, "GATEHOUSE_DATA_DIR": self.data,
            "GATEHOUSE_ADMIN_EMAIL": OWNER[0], "GATEHOUSE_ADMIN_PASSWORD": OWNER[1], "GATEHOUSE_LOG_LEVEL": "error",
            # Benchmarks measure the server, not its budgets.
            "GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE": "1000000", "GATEHOUSE_CLIENTS_API_READS_PER_MINUTE": "1000000",
            "GATEHOUSE_TOKEN_REQUESTS_PER_MINUTE": "100000000",
        })
        env.update(extra_env or {})
        self.process = subprocess.Popen([self.binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1).read()
                return
            except Exception:
                time.sleep(0.05)
        raise SystemExit("gatehouse did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)

    def call(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")

    def signed_in_browser(self):
        """A requests session signed in as the owner through the sign-in page."""
        import requests
        browser = requests.Session()
        page = browser.get(self.base + "/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        browser.post(self.base + "/login", data={"csrf_token": csrf, "email": OWNER[0], "password": OWNER[1]}, allow_redirects=False)
        return browser

    def register_app(self, token, redirect_uri, scopes):
        """An app registered through the clients API (with a secret and PKCE allowed)."""
        _, app = self.call("POST", "/api/2.0/clients", {
            "name": "Bench", "website_url": "https://bench.example.com", "allow_pkce": True, "redirect_uris": [redirect_uri],
            "allowed_origins": ["https://bench.example.com"], "scopes": list(scopes),
            "policy_url": "https://bench.example.com/p", "terms_url": "https://bench.example.com/t",
            "logo": "data:image/svg+xml;base64," + base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>').decode(),
        }, token)
        return app

    def portal_token(self):
        _, body = self.call("POST", "/api/2.0/authentication", {"userName": OWNER[0], "password": OWNER[1]})
        return body["response"]["token"]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
