"""Whole-flow load test (issue 6): simulated people each doing sign-in → authorize → consent → code →
token → 10 API calls → refresh → revoke, over and over for a while, spread over one or more
Gatehouse processes (each request goes to the next process: no stickiness). Reports completed flows
per second, p50/p99 latency per step, and errors (zero expected).

Run (release build):
  python3 Benchmarks/flow_load.py [seconds] [people]                       # 1 process on SQLite
  python3 Benchmarks/flow_load.py [seconds] [people] postgres://… [processes]  # N processes on PostgreSQL
The PostgreSQL URL names a server where the script may create (and then drop) a scratch database.
"""
import base64
import hashlib
import html
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict

import requests

from common import OWNER, Gatehouse, percentile

REDIRECT = "https://load.example.com/cb"
STEPS = ["sign-in", "authorize", "consent", "token", "api", "refresh", "revoke"]
PASSWORD = "load-person-password-1"


def scratch_database(admin_url):
    parts = urllib.parse.urlsplit(admin_url)
    name = "load_" + secrets.token_hex(5)
    psql = os.environ.get("PSQL", "psql")
    base = [psql, "-h", parts.hostname, "-p", str(parts.port or 5432), "-U", parts.username or "postgres", "-d",
            parts.path.lstrip("/") or "postgres", "-q", "-c"]
    subprocess.run(base + [f"CREATE DATABASE {name}"], check=True)
    return f"{parts.scheme}://{parts.netloc}/{name}", lambda: subprocess.run(base + [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    people = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    postgres = sys.argv[3] if len(sys.argv) > 3 else None
    count = int(sys.argv[4]) if len(sys.argv) > 4 else (2 if postgres else 1)
    secret = secrets.token_urlsafe(32)
    drop = None
    extra = {"GATEHOUSE_SECRET_KEY": secret, "GATEHOUSE_BCRYPT_COST": os.environ.get("BCRYPT_COST", "10"),
             "GATEHOUSE_CLIENTS_PER_PERSON": "1000"}
    if postgres:
        url, drop = scratch_database(postgres)
        extra["GATEHOUSE_DATABASE_URL"] = url
    servers = [Gatehouse(extra)]
    for _ in range(count - 1):
        servers.append(Gatehouse({**extra, "GATEHOUSE_PUBLIC_URL": servers[0].base}))
    issuer = servers[0].base
    try:
        owner = servers[0].portal_token()
        _, app = servers[0].call("POST", "/api/2.0/clients", {
            "name": "Load", "website_url": "https://load.example.com", "allow_pkce": True, "redirect_uris": [REDIRECT],
            "allowed_origins": ["https://load.example.com"], "scopes": ["openid", "files:read", "accounts.self:read"],
            "policy_url": "https://load.example.com/p", "terms_url": "https://load.example.com/t",
            "logo": "data:image/svg+xml;base64," + base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>').decode(),
        }, owner)
        auth = (app["client_id"], app["client_secret"])
        emails = [f"load-{index}@example.com" for index in range(people)]
        for email in emails:
            servers[0].call("POST", "/api/2.0/people", {"email": email, "password": PASSWORD, "role": "user"}, owner)

        latencies = defaultdict(list)
        errors = defaultdict(int)
        flows = [0]
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def person(index, email):
            turn = [index]

            def base():
                turn[0] += 1
                return servers[turn[0] % len(servers)].base

            def timed(step, call):
                started = time.perf_counter()
                try:
                    response = call()
                except requests.RequestException:
                    response = None
                elapsed = time.perf_counter() - started
                with lock:
                    latencies[step].append(elapsed)
                return response

            def failed(step, response):
                with lock:
                    errors[f"{step}: {response.status_code if response is not None else 'no answer'}"] += 1

            while time.monotonic() < deadline:
                session = requests.Session()
                page = session.get(base() + "/login")
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
                response = timed("sign-in", lambda: session.post(base() + "/login", allow_redirects=False,
                                                                 data={"csrf_token": csrf, "email": email, "password": PASSWORD}))
                if response is None or response.status_code != 303:
                    failed("sign-in", response)
                    continue
                verifier = secrets.token_urlsafe(48)
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                query = urllib.parse.urlencode({"response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT,
                                                "scope": "openid files:read accounts.self:read", "state": "s", "nonce": "n",
                                                "prompt": "consent", "code_challenge": challenge, "code_challenge_method": "S256"})
                response = timed("authorize", lambda: session.get(base() + "/oauth2/authorize?" + query, allow_redirects=False))
                if response is None or response.status_code != 200:
                    failed("authorize", response)
                    continue
                fields = {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text)}
                response = timed("consent", lambda: session.post(base() + "/oauth2/authorize", data={**fields, "consent": "allow"},
                                                                 allow_redirects=False))
                code = urllib.parse.parse_qs(urllib.parse.urlsplit(response.headers.get("Location", "") if response else "").query).get("code")
                if not code:
                    failed("consent", response)
                    continue
                response = timed("token", lambda: requests.post(base() + "/oauth2/token", auth=auth, data={
                    "grant_type": "authorization_code", "code": code[0], "redirect_uri": REDIRECT, "code_verifier": verifier}))
                if response is None or response.status_code != 200:
                    failed("token", response)
                    continue
                tokens = response.json()
                bearer = {"Authorization": "Bearer " + tokens["access_token"]}
                for call in range(10):
                    path = "/api/2.0/files/@my" if call % 2 else "/api/2.0/people/@self"
                    response = timed("api", lambda: session.get(base() + path, headers=bearer))
                    if response is None or response.status_code != 200:
                        failed("api", response)
                response = timed("refresh", lambda: requests.post(base() + "/oauth2/token", auth=auth, data={
                    "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}))
                if response is None or response.status_code != 200:
                    failed("refresh", response)
                    continue
                response = timed("revoke", lambda: requests.post(base() + "/oauth2/revoke", auth=auth,
                                                                 data={"token": response.json()["refresh_token"]}))
                if response is None or response.status_code != 200:
                    failed("revoke", response)
                    continue
                with lock:
                    flows[0] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=person, args=(index, email)) for index, email in enumerate(emails)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        where = f"{count} process{'es' if count > 1 else ''} on {'PostgreSQL' if postgres else 'SQLite'}"
        print(f"whole flow, {people} simulated people, {seconds} s, {where}, release build, bcrypt cost {extra['GATEHOUSE_BCRYPT_COST']}")
        print(f"completed flows: {flows[0]} ({flows[0] / elapsed:.1f}/s); errors: {sum(errors.values())} {dict(errors) or ''}")
        for step in STEPS:
            values = latencies[step]
            if values:
                print(f"  {step:10s} n={len(values):6d}  p50 {percentile(values, 0.5) * 1000:8.1f} ms  p99 {percentile(values, 0.99) * 1000:8.1f} ms")
    finally:
        for server in servers:
            server.stop()
        if drop:
            drop()


if __name__ == "__main__":
    main()
