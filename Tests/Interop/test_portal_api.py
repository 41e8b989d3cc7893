"""The portal API (SPEC §4) from outside: authlib gets a token and calls it; and a revocation made
through one server process is honoured by a second process on the same PostgreSQL within 2 seconds."""
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest
import requests

from conftest import OWNER_EMAIL, OWNER_PASSWORD, ROOT, Server, free_port
from oauth_helpers import follow_authorize, register_app, signed_in_session

os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
REDIRECT = "http://127.0.0.1:8765/callback"
SCOPES = "openid accounts.self:read files:write rooms:read"


def authlib_token(server, session, app):
    from authlib.integrations.requests_client import OAuth2Session

    meta = requests.get(server.base_url + "/.well-known/openid-configuration").json()
    client = OAuth2Session(app["client_id"], app["client_secret"], scope=SCOPES, redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
    location = follow_authorize(server, session, url)
    client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
    return client


def test_authlib_calls_the_portal_api(server):
    session = signed_in_session(server)
    app = register_app(server, session, [REDIRECT], scopes=SCOPES.split())
    client = authlib_token(server, session, app)
    me = client.get(server.base_url + "/api/2.0/people/@self").json()
    assert me["statusCode"] == 200 and me["response"]["email"] == OWNER_EMAIL
    my = client.get(server.base_url + "/api/2.0/files/@my").json()["response"]["current"]["id"]
    content = os.urandom(300_000)
    made = client.post(f"{server.base_url}/api/2.0/files/{my}/upload", files={"file": ("interop.bin", content)})
    assert made.status_code == 201, made.text
    info = made.json()["response"]
    assert info["sha256"] == hashlib.sha256(content).hexdigest()
    download = client.get(f"{server.base_url}/api/2.0/files/file/{info['id']}/content")
    assert download.content == content
    # The token holds no accounts:read: the directory is refused with the RFC 6750 challenge.
    refused = client.get(server.base_url + "/api/2.0/people")
    assert refused.status_code == 403 and 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert client.get(server.base_url + "/api/2.0/files/rooms").status_code == 200


def start(binary, database_url, secret, port, public_url):
    data_dir = tempfile.mkdtemp(prefix="gatehouse-pg-")
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, GATEHOUSE_PORT=str(port), GATEHOUSE_PUBLIC_URL=public_url, GATEHOUSE_DATA_DIR=data_dir,
               GATEHOUSE_ADMIN_EMAIL=OWNER_EMAIL, GATEHOUSE_ADMIN_PASSWORD=OWNER_PASSWORD, GATEHOUSE_BCRYPT_COST="4",
               GATEHOUSE_DATABASE_URL=database_url, GATEHOUSE_SECRET_KEY=secret,
               GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE="1000",
               GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE="1000", GATEHOUSE_CLIENTS_API_READS_PER_MINUTE="100000")
    process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(base_url + "/health", timeout=1).read()
            return process, Server(base_url, data_dir)
        except Exception:
            if process.poll() is not None:
                raise RuntimeError("gatehouse exited")
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gatehouse did not start")


@pytest.mark.skipif(not os.environ.get("GATEHOUSE_TEST_DATABASE_URL") or not os.environ.get("GATEHOUSE_TEST_PSQL"),
                    reason="needs the CI PostgreSQL (GATEHOUSE_TEST_DATABASE_URL and GATEHOUSE_TEST_PSQL)")
def test_a_revocation_reaches_a_second_process_within_two_seconds():
    admin_url = os.environ["GATEHOUSE_TEST_DATABASE_URL"]
    parts = urllib.parse.urlsplit(admin_url)
    name = "interop_" + secrets.token_hex(6)
    psql = [os.environ["GATEHOUSE_TEST_PSQL"], "-h", parts.hostname, "-p", str(parts.port or 5432), "-U", parts.username or "postgres",
            "-d", parts.path.lstrip("/") or "postgres", "-q", "-c"]
    subprocess.run(psql + [f"CREATE DATABASE {name}"], check=True)
    database_url = f"{parts.scheme}://{parts.netloc}/{name}"
    binary = os.environ.get("GATEHOUSE_BIN", str(ROOT / ".build" / "debug" / "gatehouse"))
    secret = secrets.token_urlsafe(32)
    # Both processes serve one portal: one issuer (as behind a load balancer), one secret key.
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    first, one = start(binary, database_url, secret, port, public_url)
    second, two = None, None
    try:
        second, two = start(binary, database_url, secret, free_port(), public_url)
        session = signed_in_session(one)
        app = register_app(one, session, [REDIRECT], scopes=SCOPES.split())
        client = authlib_token(one, session, app)
        token = client.token["access_token"]
        bearer = {"Authorization": "Bearer " + token}
        assert requests.get(two.base_url + "/api/2.0/files/@my", headers=bearer).status_code == 200
        revoked = requests.post(one.base_url + "/oauth2/revoke", data={"token": token},
                                auth=(app["client_id"], app["client_secret"]))
        assert revoked.status_code == 200
        started = time.monotonic()
        while requests.get(two.base_url + "/api/2.0/files/@my", headers=bearer).status_code != 401:
            assert time.monotonic() - started < 2.0, "the second process still accepts the revoked token"
            time.sleep(0.05)
        print(f"revocation reached the second process in {time.monotonic() - started:.2f} s")
    finally:
        for process in (first, second):
            if process:
                process.terminate()
                process.wait(timeout=15)
        for server in (one, two):
            if server:
                shutil.rmtree(server.data_dir, ignore_errors=True)
        subprocess.run(psql + [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)
