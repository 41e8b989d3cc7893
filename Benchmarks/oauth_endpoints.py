"""Throughput of the authorization server's hot paths with wrk on loopback (release build, SQLite).

Figures: full /oauth2/authorize with a session and remembered consent to the 302 with a code;
code exchange with client authentication and an ID token; refresh with rotation; introspection;
JWKS. Each code and refresh token is single-use, so the wrk scripts feed fresh ones: the authorize
run collects the codes the exchange run spends, and the refresh run chains each answer's token.
Run: swift build -c release --product gatehouse && python3 Benchmarks/oauth_endpoints.py [seconds] [connections]
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

import requests

from common import OWNER, Gatehouse

HERE = Path(__file__).resolve().parent
REDIRECT = "https://bench.example.com/cb"
VERIFIER = "bench-verifier-" + "x" * 40
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


PROFILE = os.environ.get("BENCH_PERF")  # a folder: each run is also recorded with `perf record` there
SERVER_PID = None


def server_cpu_seconds():
    """User + system CPU time the server process has used so far (from /proc)."""
    fields = Path(f"/proc/{SERVER_PID}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, seconds, connections, script=None, env=None, threads=2):
    """Requests per second (2xx/3xx only), non-2xx count, p99, and the server's CPU milliseconds per request."""
    profiler = None
    cpu_before = server_cpu_seconds()
    if PROFILE and SERVER_PID:
        name = Path(str(script or "jwks")).stem
        if Path(f"{PROFILE}/{name}.data").exists():
            name += "-" + Path(url).name.replace("@", "")
        profiler = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(SERVER_PID), "-o",
                                     f"{PROFILE}/{name}.data", "--", "sleep", str(seconds)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command + [url], capture_output=True, text=True, env={**os.environ, **(env or {})}).stdout
    cpu = server_cpu_seconds() - cpu_before
    if profiler:
        profiler.wait()
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    duration = float(re.search(r"requests in ([\d.]+)s", out).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    return (requests_done - non2xx) / duration, non2xx, p99, out, 1000 * cpu / max(requests_done, 1)


def rsa2048_signatures_per_second():
    """RSA-2048 signatures per second on one core (`openssl speed`; BoringSSL in swift-crypto runs the same
    Montgomery code): every code exchange signs one RS256 ID token, so this bounds the exchange rate."""
    try:
        out = subprocess.run(["openssl", "speed", "-seconds", "2", "rsa2048"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"rsa 2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out)
    return float(found.group(1)) if found else None


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    rsa = rsa2048_signatures_per_second()  # before the server starts, on an idle machine
    server = Gatehouse({"GATEHOUSE_CLIENTS_PER_PERSON": "1000"})
    global SERVER_PID
    SERVER_PID = server.process.pid
    work = Path(tempfile.mkdtemp(prefix="gatehouse-wrk-"))
    try:
        browser = server.signed_in_browser()
        token = server.portal_token()
        app = server.register_app(token, REDIRECT, ["openid", "files:read"])
        query = urllib.parse.urlencode({"response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT,
                                        "scope": "openid files:read", "state": "s", "nonce": "n", "code_challenge": CHALLENGE,
                                        "code_challenge_method": "S256"})
        authorize_url = server.base + "/oauth2/authorize?" + query
        first = browser.get(authorize_url, allow_redirects=False)  # the consent, once
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', first.text))
        fields = {k: v.replace("&amp;", "&").replace("&#x3D;", "=").replace("&#x2F;", "/") for k, v in fields.items()}
        browser.post(server.base + "/oauth2/authorize", data={**fields, "consent": "allow"}, allow_redirects=False)
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
        codes = work / "codes"
        env = {"GH_COOKIE": cookie, "GH_CODES": str(codes), "GH_BASIC": basic, "GH_REDIRECT": REDIRECT, "GH_VERIFIER": VERIFIER}

        results = {}
        rate, errors, p99, _, cpu = wrk(authorize_url, seconds, connections, HERE / "wrk" / "authorize.lua", env, threads=1)
        results["authorize (session + remembered consent → 302 with code)"] = (rate, errors, p99, cpu)
        rate, errors, p99, _, cpu = wrk(server.base + "/oauth2/token", seconds, connections, HERE / "wrk" / "exchange.lua", env, threads=1)
        results["token: code exchange + client auth + ID token"] = (rate, errors, p99, cpu)

        # Refresh: one chain per connection.
        refresh_tokens = []
        for _ in range(connections * 2):
            location = browser.get(authorize_url, allow_redirects=False).headers["Location"]
            code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
            answer = requests.post(server.base + "/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": REDIRECT, "code_verifier": VERIFIER}, auth=(app["client_id"], app["client_secret"])).json()
            refresh_tokens.append(answer["refresh_token"])
            access_token = answer["access_token"]
        (work / "refresh").write_text("\n".join(refresh_tokens) + "\n")
        env["GH_REFRESH"] = str(work / "refresh")
        rate, errors, p99, _, cpu = wrk(server.base + "/oauth2/token", seconds, connections, HERE / "wrk" / "refresh.lua", env, threads=1)
        results["token: refresh with rotation (no ID token)"] = (rate, errors, p99, cpu)

        env["GH_TOKEN"] = access_token
        rate, errors, p99, _, cpu = wrk(server.base + "/oauth2/introspect", seconds, connections, HERE / "wrk" / "introspect.lua", env)
        results["introspection"] = (rate, errors, p99, cpu)
        rate, errors, p99, _, cpu = wrk(server.base + "/oauth2/jwks", seconds, connections)
        results["JWKS"] = (rate, errors, p99, cpu)

        print(f"wrk, {connections} connections, {seconds} s each, release build on SQLite, 2 cores shared with wrk")
        for name, (rate, errors, p99, cpu) in results.items():
            print(f"{name:58s} {rate:9.0f}/s  p99 {p99:>8s}  non-2xx/3xx {errors}  server CPU {cpu:.3f} ms/request")
        if rsa:
            print(f"RS256 bound: RSA-2048 signs {rsa:.0f}/s on one core here ({1000 / rsa:.3f} ms each, openssl speed), so the code"
                  f" exchange cannot pass {2 * rsa:.0f}/s on 2 cores even with no other work and no wrk")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
