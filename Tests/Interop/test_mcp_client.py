"""Issue 15 with a real MCP client nobody here wrote: the Python MCP SDK (`mcp` on PyPI) is given only the
portal's /mcp address. It discovers the authorization server from the 401 (RFC 9728), registers itself
(RFC 7591), runs PKCE with `resource` (RFC 8707) while the person consents in a real Chromium, and calls
the tools; a token without files:write steps up after a 403 naming the scope."""
import asyncio
import http.server
import json
import threading
import urllib.parse

import httpx2
import requests
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from test_developer_tools import shot, sign_in


class LoopbackCallback:
    """The native client's redirect target (RFC 8252 §7.3): a one-page HTTP server on a loopback port."""

    def __init__(self):
        self.queries = []
        self.arrived = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                address = urllib.parse.urlsplit(self.path)
                if address.path != "/callback":  # the browser also asks for /favicon.ico
                    self.send_response(404)
                    self.end_headers()
                    return
                owner.queries.append(dict(urllib.parse.parse_qsl(address.query)))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"You can close this window.")
                owner.arrived.set()

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/callback"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self):
        assert self.arrived.wait(20), "the browser never came back to the loopback callback"
        self.arrived.clear()
        return self.queries[-1]

    def close(self):
        self.httpd.shutdown()


class MemoryStorage:
    def __init__(self, client_info=None):
        self.tokens, self.client_info = None, client_info

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


def provider(server, browser, screenshots, callback, storage, scope=None, consents=None, client_metadata_url=None,
             marked="registered itself"):
    """The SDK's OAuth provider, whose browser step is a real Chromium signed in to the portal."""
    pending = {}

    async def redirect_handler(url):
        pending["url"] = url

    def consent():
        url = pending.pop("url")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert query["resource"] == server.base_url + "/mcp" and query["code_challenge_method"] == "S256", query
        browser.get(url)
        try:
            WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "allow")))
        except Exception:
            raise AssertionError(f"no consent page for {url}: at {browser.current_url}: {browser.find_element(By.TAG_NAME, 'body').text[:500]}")
        assert marked in browser.find_element(By.ID, "self-registered").text
        assert browser.find_element(By.ID, "redirect-host").text == "127.0.0.1"
        assert browser.find_elements(By.ID, "this-device-warning")
        if consents is not None:
            consents.append(query.get("scope", ""))
            shot(browser, screenshots, f"19-mcp-consent-{len(consents)}")
        browser.find_element(By.ID, "allow").click()
        return callback.wait()

    async def callback_handler():
        answer = await asyncio.to_thread(consent)
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))

    metadata = OAuthClientMetadata(redirect_uris=[callback.url], client_name="Interop MCP client", token_endpoint_auth_method="none",
                                   grant_types=["authorization_code", "refresh_token"], response_types=["code"], scope=scope)
    return OAuthClientProvider(server_url=server.base_url + "/mcp", client_metadata=metadata, storage=storage,
                               redirect_handler=redirect_handler, callback_handler=callback_handler,
                               client_metadata_url=client_metadata_url)


async def call(session, tool, arguments=None):
    result = await session.call_tool(tool, arguments or {})
    assert not result.is_error, (tool, result.content)
    return result.content[0].text


def test_an_mcp_client_given_only_the_address_registers_consents_and_calls_tools(server, browser, screenshots):
    sign_in(browser, server)
    callback = LoopbackCallback()
    storage = MemoryStorage()
    text = "Minutes of the planning meeting — ünïcode\nsecond line\n"

    async def run():
        auth = provider(server, browser, screenshots, callback, storage, consents=[])
        async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
            async with streamable_http_client(server.base_url + "/mcp", http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    names = [tool.name for tool in (await session.list_tools()).tools]
                    assert names == ["whoami", "list_folder", "read_file", "create_folder", "upload_text_file", "list_rooms",
                                     "create_room", "share_room", "list_people"]
                    assert json.loads(await call(session, "whoami"))["email"] == "owner@example.com"
                    folder = json.loads(await call(session, "list_folder"))["current"]["id"]
                    uploaded = json.loads(await call(session, "upload_text_file", {"folderId": folder, "title": "minutes.txt", "content": text}))
                    assert await call(session, "read_file", {"fileId": uploaded["id"]}) == text
                    listed = json.loads(await call(session, "list_folder", {"folderId": folder}))
                    assert "minutes.txt" in [file["title"] for file in listed["files"]]

    try:
        asyncio.run(run())
    finally:
        callback.close()
    # The app it registered is in Developer Tools, marked as registering itself, and its token is for /mcp only.
    assert storage.client_info is not None and storage.tokens is not None
    bearer = {"Authorization": "Bearer " + storage.tokens.access_token}
    assert requests.get(server.base_url + "/api/2.0/people/@self", headers=bearer).status_code == 401
    browser.get(server.base_url + "/developer-tools/oauth")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-client-id="{storage.client_info.client_id}"]')
    assert "Registered by the app itself" in row.text


def test_an_mcp_client_known_by_its_metadata_document(browser, screenshots):
    """The same client with a Client ID Metadata Document instead of registering: its client_id is the
    document's https URL, served by a local HTTPS server whose CA the portal is given
    (GATEHOUSE_OUTBOUND_CA_FILE; GATEHOUSE_OUTBOUND_ALLOW_PRIVATE=1 since it is on loopback)."""
    from conftest import running_gatehouse
    from document_server import DocumentServer

    documents = DocumentServer()
    callback = LoopbackCallback()
    url = documents.serve("/clients/interop-mcp.json", {
        "client_name": "Interop MCP client (document)", "redirect_uris": [callback.url], "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]})
    storage = MemoryStorage()
    text = "Bytes that go round: ünïcode ✓\n"
    try:
        with running_gatehouse("gatehouse-mcp-cimd-", GATEHOUSE_OUTBOUND_ALLOW_PRIVATE="1",
                               GATEHOUSE_OUTBOUND_CA_FILE=documents.ca_file) as portal:
            sign_in(browser, portal)

            async def run():
                auth = provider(portal, browser, screenshots, callback, storage, client_metadata_url=url,
                                marked="known only by its metadata URL")
                async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
                    async with streamable_http_client(portal.base_url + "/mcp", http_client=http) as (read, write):
                        async with ClientSession(read, write) as session:
                            await session.initialize()
                            assert "upload_text_file" in [tool.name for tool in (await session.list_tools()).tools]
                            assert json.loads(await call(session, "whoami"))["email"] == "owner@example.com"
                            folder = json.loads(await call(session, "list_folder"))["current"]["id"]
                            made = json.loads(await call(session, "upload_text_file",
                                                         {"folderId": folder, "title": "document-app.txt", "content": text}))
                            assert await call(session, "read_file", {"fileId": made["id"]}) == text

            asyncio.run(run())
            assert storage.client_info is not None and storage.client_info.client_id == url
            assert documents.hits["/clients/interop-mcp.json"] == 1
            # No registration happened: the only app is the one the document describes.
            browser.get(portal.base_url + "/developer-tools/oauth")
            assert url in browser.find_element(By.ID, "app-list").text
    finally:
        callback.close()
        documents.close()


def test_a_missing_scope_steps_up_through_a_new_consent(server, browser, screenshots):
    """The client holds a token with files:read and calls upload_text_file: 403 with scope="files:write"
    (RFC 6750 §3.1, RFC 9728 §5.1); the SDK asks again (the person consents in Chromium: consent to a
    self-registered app is never remembered) and the call then succeeds."""
    import base64
    import hashlib
    import secrets

    from mcp.shared.auth import OAuthToken
    from oauth_helpers import follow_authorize, query_of, signed_in_session

    sign_in(browser, server)
    callback = LoopbackCallback()
    registered = requests.post(server.base_url + "/oauth2/register", json={
        "redirect_uris": [callback.url], "client_name": "Step-up client", "token_endpoint_auth_method": "none"}).json()
    # A token with files:read only, for /mcp, got the ordinary way.
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    resource = server.base_url + "/mcp"
    location = follow_authorize(server, signed_in_session(server), server.base_url + "/oauth2/authorize?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": registered["client_id"], "redirect_uri": callback.url, "scope": "files:read",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", "resource": resource}))
    assert "code" in query_of(location), location
    code = query_of(location)["code"]
    token = requests.post(server.base_url + "/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback.url, "code_verifier": verifier,
        "client_id": registered["client_id"], "resource": resource}).json()
    assert token["scope"] == "files:read", token
    storage = MemoryStorage(OAuthClientInformationFull(**registered))
    storage.tokens = OAuthToken(**{k: token[k] for k in ("access_token", "token_type", "expires_in", "refresh_token", "scope")})
    consents = []

    async def run():
        auth = provider(server, browser, screenshots, callback, storage, scope="files:read", consents=consents)
        async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
            async with streamable_http_client(resource, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    folder = json.loads(await call(session, "list_folder"))["current"]["id"]
                    made = json.loads(await call(session, "upload_text_file", {"folderId": folder, "title": "step-up.txt", "content": "up"}))
                    assert made["title"] == "step-up.txt"

    try:
        asyncio.run(run())
    finally:
        callback.close()
    assert len(consents) == 1 and {"files:read", "files:write"} <= set(consents[0].split()), consents
