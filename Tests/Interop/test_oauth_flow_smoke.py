"""The code flow with plain HTTP calls, checking every answer against SPEC §3."""
import base64
import hashlib
import secrets

import requests

from oauth_helpers import follow_authorize, query_of, register_app, signed_in_session


def test_code_flow_refresh_introspect_revoke(server):
    session = signed_in_session(server)
    redirect = "http://127.0.0.1:9999/callback"
    app = register_app(server, session, [redirect])
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    location = follow_authorize(server, session, server.base_url + "/oauth2/authorize?" + requests.compat.urlencode({
        "response_type": "code", "client_id": app["client_id"], "redirect_uri": redirect, "scope": "openid files:read",
        "state": "s1", "nonce": "n1", "code_challenge": challenge, "code_challenge_method": "S256",
    }))
    params = query_of(location)
    assert location.startswith(redirect)
    assert params["state"] == "s1" and params["iss"] == server.base_url
    token = requests.post(server.base_url + "/oauth2/token", data={
        "grant_type": "authorization_code", "code": params["code"], "redirect_uri": redirect, "code_verifier": verifier,
    }, auth=(app["client_id"], app["client_secret"]))
    assert token.status_code == 200, token.text
    tokens = token.json()
    assert tokens["token_type"] == "Bearer" and tokens["id_token"] and tokens["refresh_token"]
    info = requests.get(server.base_url + "/oauth2/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert info.status_code == 200 and info.json()["email"] == "owner@example.com"
    introspected = requests.post(server.base_url + "/oauth2/introspect", data={"token": tokens["access_token"]},
                                 auth=(app["client_id"], app["client_secret"])).json()
    assert introspected["active"] is True and introspected["client_id"] == app["client_id"]
    refreshed = requests.post(server.base_url + "/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": app["client_id"], "client_secret": app["client_secret"],
    })
    assert refreshed.status_code == 200, refreshed.text
    revoked = requests.post(server.base_url + "/oauth2/revoke", data={"token": refreshed.json()["refresh_token"]},
                            auth=(app["client_id"], app["client_secret"]))
    assert revoked.status_code == 200
    after = requests.post(server.base_url + "/oauth2/introspect", data={"token": refreshed.json()["access_token"]},
                          auth=(app["client_id"], app["client_secret"])).json()
    assert after == {"active": False}
