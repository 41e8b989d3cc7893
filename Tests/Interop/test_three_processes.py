"""Issue 6: nothing lives only in one process. Three `gatehouse serve` processes share one PostgreSQL
and sit behind nginx configured by deploy/nginx/gatehouse.conf (TLS with a certificate made here):
register on #1, sign in and authorize on #2, exchange on #3, refresh on #1, revoke on #2 and see #3
refuse within 2 s, rotate keys and see new tokens accepted everywhere within 2 s while old ones stay
valid, disable the app on #3 and see #1 refuse it; the whole flow once through nginx; and an API key made on #1,
used on #3, turned off on #2 and refused by #3 within 2 s."""
import base64
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import jwt as pyjwt
import pytest
import requests

from conftest import OWNER_EMAIL, OWNER_PASSWORD, ROOT, Server, free_port
from oauth_helpers import follow_authorize, query_of

REDIRECT = "https://app.example.com/cb"
NEEDS = pytest.mark.skipif(
    not os.environ.get("GATEHOUSE_TEST_DATABASE_URL") or not os.environ.get("GATEHOUSE_TEST_PSQL") or not shutil.which("nginx")
    or not shutil.which("openssl"),
    reason="needs the CI PostgreSQL (GATEHOUSE_TEST_DATABASE_URL, GATEHOUSE_TEST_PSQL), nginx and openssl")


def within(seconds, check, message):
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, message
        time.sleep(0.05)
    return time.monotonic() - started


class Cluster:
    """A scratch PostgreSQL database, N processes and nginx in front, all on loopback."""

    def __init__(self, count=3, **extra):
        self.extra = extra
        self.folder = tempfile.mkdtemp(prefix="gatehouse-cluster-")
        admin = urllib.parse.urlsplit(os.environ["GATEHOUSE_TEST_DATABASE_URL"])
        self.psql = [os.environ["GATEHOUSE_TEST_PSQL"], "-h", admin.hostname, "-p", str(admin.port or 5432), "-U",
                     admin.username or "postgres", "-d", admin.path.lstrip("/") or "postgres", "-q", "-c"]
        self.database = "cluster_" + secrets.token_hex(6)
        subprocess.run(self.psql + [f"CREATE DATABASE {self.database}"], check=True)
        self.database_url = f"{admin.scheme}://{admin.netloc}/{self.database}"
        self.binary = os.environ.get("GATEHOUSE_BIN", str(ROOT / ".build" / "debug" / "gatehouse"))
        self.secret = secrets.token_urlsafe(32)
        self.https_port = free_port()
        self.public_url = f"https://127.0.0.1:{self.https_port}"
        self.ports = [free_port() for _ in range(count)]
        self.processes = []
        self.nginx = None
        for port in self.ports:
            self.processes.append(self.start(port))
        self.servers = [Server(f"http://127.0.0.1:{port}", self.folder) for port in self.ports]
        self.start_nginx()

    def environment(self, port=None):
        env = dict(os.environ, GATEHOUSE_PUBLIC_URL=self.public_url, GATEHOUSE_DATABASE_URL=self.database_url,
                   GATEHOUSE_SECRET_KEY=self.secret, GATEHOUSE_ADMIN_EMAIL=OWNER_EMAIL, GATEHOUSE_ADMIN_PASSWORD=OWNER_PASSWORD,
                   GATEHOUSE_BCRYPT_COST="4", GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE="1000",
               GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE="1000", GATEHOUSE_CLIENTS_API_READS_PER_MINUTE="100000", GATEHOUSE_TRUSTED_PROXIES="127.0.0.1",
                   GATEHOUSE_DATA_DIR=os.path.join(self.folder, str(port or "cli")), **self.extra)
        if port:
            env["GATEHOUSE_PORT"] = str(port)
        return env

    def start(self, port):
        log = open(os.path.join(self.folder, f"{port}.log"), "w")
        process = subprocess.Popen([self.binary, "serve"], env=self.environment(port), stdout=log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                return process
            except Exception:
                if process.poll() is not None:
                    raise RuntimeError(open(os.path.join(self.folder, f"{port}.log")).read())
                time.sleep(0.1)
        raise RuntimeError("gatehouse did not start")

    def start_nginx(self):
        """deploy/nginx/gatehouse.conf as shipped, with this test's ports, certificate and paths."""
        cert, key = os.path.join(self.folder, "cert.pem"), os.path.join(self.folder, "key.pem")
        self.cert = cert
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        site = (ROOT / "deploy" / "nginx" / "gatehouse.conf").read_text()
        for index, port in enumerate(self.ports):
            site = site.replace(f"127.0.0.1:{8081 + index}", f"127.0.0.1:{port}")
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
        site = site.replace("/etc/ssl/certs/portal.example.com.pem", cert).replace("/etc/ssl/private/portal.example.com.key", key)
        assert site.count(f"127.0.0.1:{self.ports[0]}") == 1 and cert in site, "the shipped configuration changed shape"
        conf = os.path.join(self.folder, "nginx.conf")
        with open(conf, "w") as handle:
            handle.write(f"""
                worker_processes 1;
                pid {self.folder}/nginx.pid;
                error_log {self.folder}/nginx-error.log;
                events {{ worker_connections 256; }}
                http {{
                    access_log off;
                    client_body_temp_path {self.folder}/body; proxy_temp_path {self.folder}/proxy;
                    fastcgi_temp_path {self.folder}/fcgi; uwsgi_temp_path {self.folder}/uwsgi; scgi_temp_path {self.folder}/scgi;
                    {site}
                }}
                """)
        self.nginx = subprocess.Popen(["nginx", "-c", conf, "-p", self.folder, "-g", "daemon off;" + (" user root;" if os.getuid() == 0 else "")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        within(10, lambda: self.https_ok(), "nginx did not come up")

    def https_ok(self):
        try:
            return requests.get(self.public_url + "/health", verify=self.cert, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self):
        for process in self.processes + ([self.nginx] if self.nginx else []):
            process.terminate()
        for process in self.processes + ([self.nginx] if self.nginx else []):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(self.psql + [f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"], check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


class LoopbackSession(requests.Session):
    """Keeps cookies sendable over http (requests copies the jar per request, so a cookie policy would not stick)."""

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


def sign_in(base_url):
    """A requests session signed in on one process over plain http. The cookies are Secure (the public
    URL is https), as they would be behind the TLS proxy; to reach one process directly on loopback the
    session sends them over http too."""
    session = LoopbackSession()
    page = session.get(base_url + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = session.post(base_url + "/login", data={"csrf_token": token, "email": OWNER_EMAIL, "password": OWNER_PASSWORD},
                            allow_redirects=False)
    assert response.status_code == 303, response.text
    return session


def portal_token(base_url, verify=True):
    answer = requests.post(base_url + "/api/2.0/authentication", json={"userName": OWNER_EMAIL, "password": OWNER_PASSWORD}, verify=verify)
    return answer.json()["response"]["token"]


def bearer(token):
    return {"Authorization": "Bearer " + token}


@NEEDS
def test_three_processes_behind_nginx_share_everything():
    from document_server import DocumentServer

    documents = DocumentServer()
    cluster = Cluster(3, GATEHOUSE_OUTBOUND_ALLOW_PRIVATE="1", GATEHOUSE_OUTBOUND_CA_FILE=documents.ca_file)
    one, two, three = cluster.servers
    try:
        owner = portal_token(one.base_url)
        body = {"name": "Cluster App", "website_url": "https://app.example.com", "allow_pkce": True, "redirect_uris": [REDIRECT],
                "allowed_origins": ["https://app.example.com"], "scopes": ["openid", "files:read"],
                "policy_url": "https://app.example.com/p", "terms_url": "https://app.example.com/t",
                "logo": "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxIDEiLz4="}
        made = requests.post(one.base_url + "/api/2.0/clients", json=body, headers=bearer(owner))
        assert made.status_code == 201, made.text
        app = made.json()
        auth = (app["client_id"], app["client_secret"])

        # Sign in and authorize on #2 (the app is known there at once: it is read from the database).
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urllib.parse.urlencode({"response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT,
                                        "scope": "openid files:read", "state": "s", "nonce": "n", "code_challenge": challenge,
                                        "code_challenge_method": "S256"})
        session = sign_in(two.base_url)
        location = follow_authorize(two, session, two.base_url + "/oauth2/authorize?" + query)
        assert query_of(location)["iss"] == cluster.public_url
        code = query_of(location)["code"]

        # Exchange on #3, refresh on #1.
        exchanged = requests.post(three.base_url + "/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                  "redirect_uri": REDIRECT, "code_verifier": verifier}, auth=auth)
        assert exchanged.status_code == 200, exchanged.text
        tokens = exchanged.json()
        refreshed = requests.post(one.base_url + "/oauth2/token", data={"grant_type": "refresh_token",
                                  "refresh_token": tokens["refresh_token"]}, auth=auth)
        assert refreshed.status_code == 200, refreshed.text
        access = refreshed.json()["access_token"]
        for server in cluster.servers:
            assert requests.get(server.base_url + "/api/2.0/files/@my", headers=bearer(access)).status_code == 200

        # Revoke on #2: #3 refuses it on the portal API and in introspection within 2 s.
        assert requests.post(two.base_url + "/oauth2/revoke", data={"token": access}, auth=auth).status_code == 200
        took = within(2, lambda: requests.get(three.base_url + "/api/2.0/files/@my", headers=bearer(access)).status_code == 401,
                      "#3 still accepts a token revoked on #2")
        assert requests.post(three.base_url + "/oauth2/introspect", data={"token": access}, auth=auth).json() == {"active": False}
        print(f"revocation reached #3 in {took:.2f} s")

        # Rotate keys: new tokens carry the new kid and are accepted everywhere within 2 s; old ones stay valid.
        old = tokens["access_token"]
        old_kid = pyjwt.get_unverified_header(old)["kid"]
        subprocess.run([cluster.binary, "keys", "rotate"], env=cluster.environment(), check=True, capture_output=True)
        current = {"refresh": refreshed.json()["refresh_token"]}

        def new_key_in_use():
            answer = requests.post(one.base_url + "/oauth2/token", data={"grant_type": "refresh_token",
                                   "refresh_token": current["refresh"]}, auth=auth).json()
            current["refresh"] = answer["refresh_token"]
            current["access"] = answer["access_token"]
            return pyjwt.get_unverified_header(answer["access_token"])["kid"] != old_kid

        within(2, new_key_in_use, "#1 does not sign with the rotated key")
        within(2, lambda: all(requests.get(s.base_url + "/api/2.0/files/@my", headers=bearer(current["access"])).status_code == 200
                              for s in cluster.servers), "a token signed with the new key is not accepted everywhere")
        for server in cluster.servers:
            assert requests.get(server.base_url + "/api/2.0/files/@my", headers=bearer(old)).status_code == 200
        kids = {key["kid"] for key in requests.get(two.base_url + "/oauth2/jwks").json()["keys"]}
        assert old_kid in kids and pyjwt.get_unverified_header(current["access"])["kid"] in kids

        # Disable the app on #3: #1 refuses its tokens and its client authentication.
        owner_three = portal_token(three.base_url)
        disabled = requests.patch(f"{three.base_url}/api/2.0/clients/{app['client_id']}/activation", json={"status": False},
                                  headers=bearer(owner_three))
        assert disabled.status_code == 200, disabled.text
        within(2, lambda: requests.get(one.base_url + "/api/2.0/files/@my", headers=bearer(current["access"])).status_code == 401,
               "#1 still accepts a token of an app disabled on #3")
        within(2, lambda: requests.post(one.base_url + "/oauth2/token", data={"grant_type": "refresh_token",
                                        "refresh_token": current["refresh"]}, auth=auth).status_code == 401,
               "#1 still authenticates an app disabled on #3")
        assert requests.patch(f"{three.base_url}/api/2.0/clients/{app['client_id']}/activation", json={"status": True},
                              headers=bearer(owner_three)).status_code == 200
        within(2, lambda: all(requests.post(s.base_url + "/oauth2/introspect", data={"token": "x"}, auth=auth).status_code == 200
                              for s in cluster.servers), "an app enabled again on #3 is not accepted everywhere")

        # The whole flow once through nginx, over TLS, with the balancer picking processes.
        secure = requests.Session()
        secure.trust_env = False  # no CA bundle from the environment: only the certificate made for this test
        secure.verify = cluster.cert
        page = secure.get(cluster.public_url + "/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert secure.post(cluster.public_url + "/login", data={"csrf_token": csrf, "email": OWNER_EMAIL, "password": OWNER_PASSWORD},
                           allow_redirects=False).status_code == 303
        edge = Server(cluster.public_url, cluster.folder)
        location = follow_authorize(edge, secure, cluster.public_url + "/oauth2/authorize?" + query)
        answer = secure.post(cluster.public_url + "/oauth2/token", data={"grant_type": "authorization_code",
                             "code": query_of(location)["code"], "redirect_uri": REDIRECT, "code_verifier": verifier}, auth=auth)
        assert answer.status_code == 200, answer.text
        edge_token = answer.json()["access_token"]
        for _ in range(6):
            assert secure.get(cluster.public_url + "/api/2.0/files/@my", headers=bearer(edge_token)).status_code == 200

        # SPEC §7: an API key made on #1 works on #3 at once; turned off on #2, #3 refuses it within 2 s.
        made = requests.post(one.base_url + "/api/2.0/keys", json={"name": "Cluster key", "permissions": ["files:read"]},
                             headers=bearer(owner))
        assert made.status_code == 201, made.text
        key = made.json()["response"]
        assert requests.get(three.base_url + "/api/2.0/files/@my", headers=bearer(key["key"])).status_code == 200
        turned_off = requests.put(two.base_url + "/api/2.0/keys/" + key["id"], json={"isActive": False}, headers=bearer(owner))
        assert turned_off.status_code == 200, turned_off.text
        within(2, lambda: requests.get(three.base_url + "/api/2.0/files/@my", headers=bearer(key["key"])).status_code == 401,
               "a key turned off on #2 still works on #3 after 2 s")

        # SPEC §6: an app that registers itself on #1 signs a person in on #2 with PKCE at once, and its /mcp
        # token works on #3; disabled by an admin on #3, it is refused on #1 within 2 s.
        native = requests.post(one.base_url + "/oauth2/register", json={
            "redirect_uris": ["http://127.0.0.1:7777/callback"], "client_name": "Cluster assistant", "token_endpoint_auth_method": "none"})
        assert native.status_code == 201, native.text
        native_id = native.json()["client_id"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        location = follow_authorize(two, session, two.base_url + "/oauth2/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": native_id, "redirect_uri": "http://127.0.0.1:43210/callback", "scope": "accounts.self:read",
            "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", "resource": cluster.public_url + "/mcp"}))
        exchanged = requests.post(three.base_url + "/oauth2/token", data={
            "grant_type": "authorization_code", "code": query_of(location)["code"], "redirect_uri": "http://127.0.0.1:43210/callback",
            "code_verifier": verifier, "client_id": native_id})
        assert exchanged.status_code == 200, exchanged.text
        mcp_headers = {**bearer(exchanged.json()["access_token"]), "Content-Type": "application/json", "Accept": "application/json"}
        whoami = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
        assert requests.post(three.base_url + "/mcp", json=whoami, headers=mcp_headers).status_code == 200
        assert requests.patch(f"{three.base_url}/api/2.0/clients/{native_id}/activation", json={"status": False},
                              headers=bearer(owner_three)).status_code == 200
        within(2, lambda: requests.post(one.base_url + "/mcp", json=whoami, headers=mcp_headers).status_code == 401,
               "#1 still accepts the /mcp token of a self-registered app disabled on #3")

        # SPEC §6: an app known by its metadata document, fetched and cached on #1; disabled by an admin on
        # #2 (where it is listed under its opaque id), #1 refuses it within 2 s though its copy is still fresh.
        document_url = documents.serve("/cluster/assistant.json", {
            "client_name": "Cluster document app", "redirect_uris": ["http://127.0.0.1:7778/callback"]})
        document_authorize = one.base_url + "/oauth2/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": document_url, "redirect_uri": "http://127.0.0.1:7778/callback",
            "scope": "files:read", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
        shown = session.get(document_authorize, allow_redirects=False)
        assert shown.status_code == 200 and 'id="allow"' in shown.text, shown.text[:1000]
        # Its row is made on first successful use (a person allowed it), not when the URL is merely named.
        assert "code" in query_of(follow_authorize(one, session, document_authorize))
        listed = requests.get(two.base_url + "/api/2.0/clients?limit=50", headers=bearer(owner_three)).json()["data"]
        document_app = next(app for app in listed if app["client_id"] == document_url)
        assert requests.patch(f"{two.base_url}/api/2.0/clients/{document_app['id']}/activation", json={"status": False},
                              headers=bearer(owner_three)).status_code == 200
        within(2, lambda: "This app is disabled." in session.get(document_authorize, allow_redirects=False).text,
               "#1 still takes a metadata-document app disabled on #2")
        assert documents.hits["/cluster/assistant.json"] == 1
    finally:
        cluster.stop()
        documents.close()
