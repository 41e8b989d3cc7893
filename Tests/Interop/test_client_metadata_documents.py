"""Client ID Metadata Documents (SPEC §6, issue 15) against a real HTTPS server on loopback whose CA is
given through GATEHOUSE_OUTBOUND_CA_FILE: a good document signs a person in with PKCE; every bad one is
refused with the authorize error page and writes no app; private targets are refused unless
GATEHOUSE_OUTBOUND_ALLOW_PRIVATE=1, before any connection is made."""
import base64
import hashlib
import html
import json
import secrets
import time
import urllib.parse

import pytest
import requests

from conftest import running_gatehouse
from document_server import DocumentServer
from oauth_helpers import follow_authorize, query_of, signed_in_session

CALLBACK = "http://127.0.0.1:47001/callback"


@pytest.fixture(scope="module")
def documents():
    served = DocumentServer()
    yield served
    served.close()


@pytest.fixture(scope="module")
def portal(documents):
    with running_gatehouse("gatehouse-cimd-", GATEHOUSE_OUTBOUND_ALLOW_PRIVATE="1", GATEHOUSE_OUTBOUND_CA_FILE=documents.ca_file,
                           GATEHOUSE_REGISTRATIONS_PER_HOUR="1000", GATEHOUSE_CLIENTS_API_READS_PER_MINUTE="100000",
                           GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE="1000") as running:
        yield running


def pkce():
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize_url(portal, client_id, redirect_uri=CALLBACK, scope="files:read", challenge=None, **extra):
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope, "state": "st",
             "code_challenge": challenge or pkce()[1], "code_challenge_method": "S256", **extra}
    return portal.base_url + "/oauth2/authorize?" + urllib.parse.urlencode(query)


def app_rows(portal, session):
    listed = session.get(portal.base_url + "/api/2.0/clients?limit=50")
    assert listed.status_code == 200, listed.text
    return {app["client_id"]: app for app in listed.json()["data"]}


def good_document(**changes):
    document = {"client_name": "Loopback Assistant", "redirect_uris": [CALLBACK, "https://assistant.example/callback"],
                "scope": "files:read files:write openid", "client_uri": "https://assistant.example"}
    document.update(changes)
    return document


def test_bad_documents_are_refused_and_nothing_is_written(portal, documents):
    owner = signed_in_session(portal)
    cases = [
        ("another client_id", documents.serve("/bad/mismatch.json", {"client_id": "https://elsewhere.example/app.json", **good_document()}),
         "is not its own URL"),
        ("over 5 KB", documents.serve("/bad/big.json", good_document(client_name="x" * 6000)), "larger than 5120 bytes"),
        ("over 5 KB without a length", documents.serve("/bad/big-body.json", body=b"{" + b" " * 8000 + b"}",
                                                       headers={"Content-Type": "application/json"}), "larger than 5120 bytes"),
        ("not JSON", documents.serve("/bad/page.html", body=b"<html>an app</html>", headers={"Content-Type": "text/html"}),
         "not a JSON object"),
        ("a redirect", documents.serve("/bad/moved.json", status=302, body=b"",
                                       headers={"Location": documents.url("/good/never.json")}), "redirects are not followed"),
        ("a 404", documents.url("/bad/missing.json"), "answered 404"),
        ("a secret", documents.serve("/bad/secret.json", good_document(client_secret="s3cret")), "must not carry client_secret"),
        ("a javascript: redirect URI", documents.serve("/bad/js.json", good_document(redirect_uris=["javascript:alert(1)"])),
         "javascript: scheme"),
        ("slow", documents.serve("/bad/slow.json", good_document(), delay=7), "did not answer within 5 seconds"),
    ]
    for name, url, phrase in cases:
        started = time.monotonic()
        response = requests.get(authorize_url(portal, url), allow_redirects=False, timeout=30)
        text = html.unescape(response.text)
        assert response.status_code == 400, (name, response.status_code, text[:300])
        assert "Location" not in response.headers, name
        assert phrase in text, (name, text[:2000])
        if name == "slow":
            assert 4.5 < time.monotonic() - started < 7, "the slow fetch was not cut at 5 s"
        # Refused documents are not cached as valid: asked again, the document is fetched again.
        before = documents.hits.get(urllib.parse.urlsplit(url).path, 0)
        if name != "slow":
            again = requests.get(authorize_url(portal, url), allow_redirects=False, timeout=30)
            assert again.status_code == 400 and documents.hits.get(urllib.parse.urlsplit(url).path, 0) == before + 1, name
    assert not [app for app in app_rows(portal, owner) if app.startswith("https://")]

    # A good document, but the request names a redirect URI it does not list.
    url = documents.serve("/good/strict.json", good_document())
    response = requests.get(authorize_url(portal, url, redirect_uri="http://127.0.0.1:47001/elsewhere"), allow_redirects=False)
    assert response.status_code == 400 and "redirect_uri is not registered for this app" in html.unescape(response.text)
    assert "Location" not in response.headers


def test_a_document_app_signs_in_with_pkce_and_admins_can_disable_it(portal, documents):
    owner = signed_in_session(portal)
    url = documents.serve("/apps/assistant.json", good_document())
    verifier, challenge = pkce()
    first = owner.get(authorize_url(portal, url, challenge=challenge, resource=portal.base_url + "/api/2.0"), allow_redirects=False)
    assert first.status_code == 200, html.unescape(first.text)[:2000]
    page = html.unescape(first.text)
    assert "known only by its metadata URL" in page and url in page and 'id="redirect-host">127.0.0.1<' in page
    assert 'id="this-device-warning"' in page  # this request goes back to a loopback address
    assert documents.hits["/apps/assistant.json"] == 1
    # Naming the URL makes no app: its row comes on first successful use, when the person allows it.
    assert url not in app_rows(portal, owner)
    location = follow_authorize(portal, owner, authorize_url(portal, url, challenge=challenge, resource=portal.base_url + "/api/2.0"))
    code = query_of(location)["code"]
    # Cached: the document was not fetched again.
    assert documents.hits["/apps/assistant.json"] == 1
    token = requests.post(portal.base_url + "/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": verifier, "client_id": url})
    assert token.status_code == 200, token.text
    body = token.json()
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert claims["client_id"] == url and claims["aud"] == portal.base_url + "/api/2.0"
    me = requests.get(portal.base_url + "/api/2.0/files/@my", headers={"Authorization": "Bearer " + body["access_token"]})
    assert me.status_code == 200, me.text
    # A secret is refused: it is a public client.
    wrong = requests.post(portal.base_url + "/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                          auth=(url, "guess"))
    assert wrong.status_code == 401

    # Never remembered: the person is asked again; prompt=none answers consent_required.
    again = owner.get(authorize_url(portal, url), allow_redirects=False)
    assert again.status_code == 200 and 'id="allow"' in again.text
    silent = owner.get(authorize_url(portal, url, prompt="none"), allow_redirects=False)
    assert silent.status_code == 302 and query_of(silent.headers["Location"])["error"] == "consent_required"

    # Listed in the clients API with an opaque id of its own, marked as known by its document.
    app = app_rows(portal, owner)[url]
    assert app["id"] != url and "/" not in app["id"] and app["registered_by"] == "metadata_document"
    assert app["authentication_methods"] == ["none"] and app.get("client_secret") is None
    one = owner.get(portal.base_url + f"/api/2.0/clients/{app['id']}")
    assert one.status_code == 200 and one.json()["client_id"] == url
    listed = owner.get(portal.base_url + "/developer-tools/oauth")
    assert url in html.unescape(listed.text) and "metadata document" in listed.text

    # An admin disables it: authorize and refresh stop at once, though the document is still cached.
    off = owner.patch(portal.base_url + f"/api/2.0/clients/{app['id']}/activation", json={"status": False})
    assert off.status_code == 200, off.text
    refused = owner.get(authorize_url(portal, url), allow_redirects=False)
    assert refused.status_code == 400 and "This app is disabled." in html.unescape(refused.text)
    refresh = requests.post(portal.base_url + "/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": url})
    assert refresh.status_code == 401 and refresh.json()["error"] == "invalid_client", refresh.text
    assert documents.hits["/apps/assistant.json"] == 1


def test_private_targets_are_refused_unless_allowed(documents):
    url = documents.serve("/apps/private.json", good_document())
    with running_gatehouse("gatehouse-cimd-public-", GATEHOUSE_OUTBOUND_CA_FILE=documents.ca_file) as public_only:
        for target in (url, documents.url("/apps/private.json", host="localhost"), "https://169.254.169.254/latest/meta-data",
                       "https://10.0.0.1/app.json", "https://[::1]/app.json"):
            response = requests.get(authorize_url(public_only, target), allow_redirects=False)
            assert response.status_code == 400 and "not a public internet address" in html.unescape(response.text), target
        assert documents.hits.get("/apps/private.json", 0) == 0, "a connection was made to a private address"
        owner = signed_in_session(public_only)
        assert app_rows(public_only, owner) == {}
