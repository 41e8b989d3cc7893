"""Issue 6's faults: a process killed with SIGKILL in the middle of registrations, token exchanges
and uploads loses nothing that was answered 2xx and leaves nothing half-written (on SQLite and on
PostgreSQL), and a database that goes away for 10 seconds gives fast 503s, an unhealthy /health and
a clear log line, then service resumes by itself."""
import base64
import hashlib
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import pytest
import requests

from conftest import OWNER_EMAIL, OWNER_PASSWORD, ROOT, free_port
from faults import CuttableProxy, ScratchPostgres

HAS_POSTGRES = bool(os.environ.get("GATEHOUSE_TEST_DATABASE_URL") and os.environ.get("GATEHOUSE_TEST_PSQL"))
REDIRECT = "https://app.example.com/cb"
LOGO = "data:image/svg+xml;base64," + base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>').decode()


class Process:
    def __init__(self, database_url=None, data_dir=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="gatehouse-fault-")
        self.database_url = database_url
        self.log_path = os.path.join(self.data_dir, f"server-{self.port}.log")
        self.secret = "fault-test-secret-" + "x" * 32
        self.start()

    def start(self):
        env = dict(os.environ, GATEHOUSE_PORT=str(self.port), GATEHOUSE_PUBLIC_URL=self.base, GATEHOUSE_DATA_DIR=self.data_dir,
                   GATEHOUSE_ADMIN_EMAIL=OWNER_EMAIL, GATEHOUSE_ADMIN_PASSWORD=OWNER_PASSWORD, GATEHOUSE_BCRYPT_COST="4",
                   GATEHOUSE_SECRET_KEY=self.secret, GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE="100000",
                   GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE="100000", GATEHOUSE_CLIENTS_API_READS_PER_MINUTE="1000000",
                   GATEHOUSE_CLIENTS_PER_PERSON="100000", GATEHOUSE_CLIENTS_PER_PORTAL="100000")
        env.pop("GATEHOUSE_DATABASE_URL", None)
        if self.database_url:
            env["GATEHOUSE_DATABASE_URL"] = self.database_url
        binary = os.environ.get("GATEHOUSE_BIN", str(ROOT / ".build" / "debug" / "gatehouse"))
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen([binary, "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1).read()
                return
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError("gatehouse exited: " + open(self.log_path).read())
                time.sleep(0.1)
        raise RuntimeError("gatehouse did not start")

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.log.close()

    def token(self):
        answer = requests.post(self.base + "/api/2.0/authentication", json={"userName": OWNER_EMAIL, "password": OWNER_PASSWORD})
        return answer.json()["response"]["token"]


def browser(base):
    session = requests.Session()
    page = session.get(base + "/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert session.post(base + "/login", data={"csrf_token": csrf, "email": OWNER_EMAIL, "password": OWNER_PASSWORD},
                        allow_redirects=False).status_code == 303
    return session


def register(base, token, name):
    body = {"name": name, "website_url": "https://app.example.com", "allow_pkce": True, "redirect_uris": [REDIRECT],
            "allowed_origins": ["https://app.example.com"], "scopes": ["openid", "files:read"], "logo": LOGO,
            "policy_url": "https://app.example.com/p", "terms_url": "https://app.example.com/t"}
    return requests.post(base + "/api/2.0/clients", json=body, headers={"Authorization": "Bearer " + token}, timeout=10)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(not HAS_POSTGRES, reason="needs the CI PostgreSQL"))])
def test_kill_9_under_load_loses_nothing_answered(kind):
    database = ScratchPostgres() if kind == "postgres" else None
    server = Process(database.url() if database else None)
    try:
        token = server.token()
        made = register(server.base, token, "Exchange target")
        app = made.json()
        auth = (app["client_id"], app["client_secret"])
        session = browser(server.base)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urllib.parse.urlencode({"response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT,
                                        "scope": "openid files:read", "code_challenge": challenge, "code_challenge_method": "S256"})
        first = session.get(server.base + "/oauth2/authorize?" + query, allow_redirects=False)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', first.text))
        import html
        fields = {k: html.unescape(v) for k, v in fields.items()}
        assert session.post(server.base + "/oauth2/authorize", data={**fields, "consent": "allow"}, allow_redirects=False).status_code == 302
        my = requests.get(server.base + "/api/2.0/files/@my", headers={"Authorization": "Bearer " + token}).json()["response"]["current"]["id"]

        answered = {"apps": [], "tokens": [], "files": []}
        lock = threading.Lock()
        stop = threading.Event()

        def registrations():
            while not stop.is_set():
                try:
                    response = register(server.base, token, "Load " + secrets.token_hex(4))
                except requests.RequestException:
                    return
                if response.status_code == 201:
                    with lock:
                        answered["apps"].append(response.json()["client_id"])

        def exchanges():
            while not stop.is_set():
                try:
                    location = session.get(server.base + "/oauth2/authorize?" + query, allow_redirects=False, timeout=10).headers.get("Location", "")
                    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code", [None])[0]
                    if not code:
                        continue
                    response = requests.post(server.base + "/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                             "redirect_uri": REDIRECT, "code_verifier": verifier}, auth=auth, timeout=10)
                except requests.RequestException:
                    return
                if response.status_code == 200:
                    with lock:
                        answered["tokens"].append(response.json())

        def uploads():
            while not stop.is_set():
                content = os.urandom(secrets.randbelow(200_000) + 1)
                try:
                    response = requests.post(f"{server.base}/api/2.0/files/{my}/upload", headers={"Authorization": "Bearer " + token},
                                             files={"file": (f"f-{secrets.token_hex(4)}.bin", content)}, timeout=10)
                except requests.RequestException:
                    return
                if response.status_code == 201:
                    with lock:
                        answered["files"].append((response.json()["response"]["id"], hashlib.sha256(content).hexdigest()))

        workers = [threading.Thread(target=work) for work in (registrations, registrations, exchanges, exchanges, uploads, uploads)]
        for worker in workers:
            worker.start()
        time.sleep(2.0)
        server.kill9()
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        assert answered["apps"] and answered["tokens"] and answered["files"], answered

        server.start()  # the same data folder and database: it must start cleanly
        token = server.token()
        headers = {"Authorization": "Bearer " + token}
        for client_id in answered["apps"]:
            assert requests.get(f"{server.base}/api/2.0/clients/{client_id}", headers=headers).status_code == 200, client_id
        for tokens in answered["tokens"]:
            introspected = requests.post(server.base + "/oauth2/introspect", data={"token": tokens["refresh_token"]}, auth=auth).json()
            assert introspected["active"] is True
            assert requests.get(server.base + "/api/2.0/files/@my", headers={"Authorization": "Bearer " + tokens["access_token"]}).status_code == 200
        for file_id, digest in answered["files"]:
            content = requests.get(f"{server.base}/api/2.0/files/file/{file_id}/content", headers=headers)
            assert content.status_code == 200 and hashlib.sha256(content.content).hexdigest() == digest

        # Nothing half-written: every file has its bytes, every app its audit entry, every refresh token its grant.
        checks = {
            "files without bytes": "SELECT COUNT(*) FROM files f WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = f.sha256)",
            "bytes that differ from their hash": "SELECT COUNT(*) FROM files f JOIN blobs b ON b.sha256 = f.sha256 WHERE b.size <> f.size",
            "apps without their creation in the audit": "SELECT COUNT(*) FROM oauth_clients c WHERE NOT EXISTS "
                                                        "(SELECT 1 FROM oauth_client_audit a WHERE a.client_id = c.client_id AND a.action = 'created')",
            "redeemed codes without a refresh token": "SELECT COUNT(*) FROM authorization_codes c WHERE c.consumed_at IS NOT NULL AND NOT EXISTS "
                                                      "(SELECT 1 FROM refresh_tokens r WHERE r.grant_id = c.grant_id)",
        }
        for name, sql in checks.items():
            if database:
                count = int(database.query(sql))
            else:
                with sqlite3.connect(os.path.join(server.data_dir, "gatehouse.sqlite")) as connection:
                    count = connection.execute(sql).fetchone()[0]
            assert count == 0, name
        print(f"{kind}: {len(answered['apps'])} apps, {len(answered['tokens'])} exchanges, {len(answered['files'])} uploads answered before SIGKILL; all intact")
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)
        if database:
            database.drop()


@pytest.mark.skipif(not HAS_POSTGRES, reason="needs the CI PostgreSQL")
def test_database_outage_is_503_then_service_resumes():
    database = ScratchPostgres()
    proxy = CuttableProxy(database.host, database.port)
    server = Process(database.url(host="127.0.0.1", port=proxy.port))
    try:
        token = server.token()
        headers = {"Authorization": "Bearer " + token}
        assert requests.get(server.base + "/api/2.0/people/@self", headers=headers).status_code == 200
        proxy.cut()
        cut_at = time.monotonic()
        answers = []
        while time.monotonic() - cut_at < 10:
            started = time.monotonic()
            response = requests.get(server.base + "/api/2.0/people/@self", headers=headers, timeout=15)
            answers.append((response.status_code, time.monotonic() - started))
            time.sleep(0.5)
        health = requests.get(server.base + "/health", timeout=15)
        assert health.status_code == 503 and health.json()["database"] == "unreachable"
        assert all(status == 503 for status, _ in answers[1:]), answers
        assert max(seconds for _, seconds in answers) < 3, answers
        proxy.restore()
        restored_at = time.monotonic()
        while requests.get(server.base + "/api/2.0/people/@self", headers=headers, timeout=15).status_code != 200:
            assert time.monotonic() - restored_at < 15, "service did not resume after the database came back"
            time.sleep(0.25)
        assert requests.get(server.base + "/health").status_code == 200
        log = open(server.log_path).read()
        assert "database unavailable" in log, log[-2000:]
        print(f"outage: {len(answers)} requests answered 503 in at most {max(s for _, s in answers):.2f} s; "
              f"resumed {time.monotonic() - restored_at:.2f} s after the database returned")
    finally:
        server.stop()
        proxy.close()
        shutil.rmtree(server.data_dir, ignore_errors=True)
        database.drop()
