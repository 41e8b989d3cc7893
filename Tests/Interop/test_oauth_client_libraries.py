"""Unmodified OAuth 2.0 / OpenID Connect client libraries against a running Gatehouse: authlib with
all three client authentication methods and PKCE, requests-oauthlib, and pyoidc with discovery and
its own ID-token validation. Tokens are verified with PyJWT and joserfc against the JWKS."""
import os
import secrets
import urllib.parse

import jwt as pyjwt
import requests
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet

from oauth_helpers import follow_authorize, query_of, register_app, signed_in_session

os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the test server is plain http on loopback
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

REDIRECT = "http://127.0.0.1:8765/callback"


def discovery(server):
    return requests.get(server.base_url + "/.well-known/openid-configuration").json()


def verify_with_pyjwt(server, token, audience, algorithm):
    keys = pyjwt.PyJWKClient(server.base_url + "/oauth2/jwks")
    key = keys.get_signing_key_from_jwt(token)
    return pyjwt.decode(token, key.key, algorithms=[algorithm], audience=audience, issuer=server.base_url)


def test_authlib_with_each_client_authentication_method_and_pkce(server):
    from authlib.integrations.requests_client import OAuth2Session

    session = signed_in_session(server)
    app = register_app(server, session, [REDIRECT])
    meta = discovery(server)
    for method in ("client_secret_basic", "client_secret_post", "none"):
        secret = None if method == "none" else app["client_secret"]
        client = OAuth2Session(app["client_id"], secret, scope="openid files:read", redirect_uri=REDIRECT,
                               code_challenge_method="S256", token_endpoint_auth_method=method)
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(12)
        url, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        location = follow_authorize(server, session, url)
        assert query_of(location)["iss"] == server.base_url
        token = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
        assert token["token_type"] == "Bearer" and token["scope"] == "files:read openid", method

        id_claims = verify_with_pyjwt(server, token["id_token"], app["client_id"], "RS256")
        assert id_claims["nonce"] == nonce and id_claims["email"] == "owner@example.com"
        header = pyjwt.get_unverified_header(token["access_token"])
        assert header["typ"] == "at+jwt" and header["alg"] == "ES256"
        access_claims = verify_with_pyjwt(server, token["access_token"], server.base_url, "ES256")
        assert access_claims["client_id"] == app["client_id"] and access_claims["scope"] == "files:read openid"

        refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"], method
        userinfo = client.get(meta["userinfo_endpoint"]).json()
        assert userinfo["sub"] == id_claims["sub"]


def test_joserfc_verifies_tokens_against_the_jwks(server):
    from authlib.integrations.requests_client import OAuth2Session

    session = signed_in_session(server)
    app = register_app(server, session, [REDIRECT])
    meta = discovery(server)
    client = OAuth2Session(app["client_id"], app["client_secret"], scope="openid", redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce="joserfc")
    token = client.fetch_token(meta["token_endpoint"], authorization_response=follow_authorize(server, session, url), code_verifier=verifier)
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"]).json())
    id_token = joserfc_jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    assert id_token.claims["aud"] == app["client_id"] and id_token.claims["nonce"] == "joserfc"
    access = joserfc_jwt.decode(token["access_token"], keys, algorithms=["ES256"])
    assert access.header["typ"] == "at+jwt"
    # A token with a changed payload no longer verifies.
    head, payload, signature = token["id_token"].split(".")
    forged = head + "." + payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB") + "." + signature
    try:
        joserfc_jwt.decode(forged, keys, algorithms=["RS256"])
    except Exception:
        pass
    else:
        raise AssertionError("a tampered ID token verified")


def test_requests_oauthlib_code_flow_with_pkce(server):
    from requests_oauthlib import OAuth2Session

    session = signed_in_session(server)
    app = register_app(server, session, [REDIRECT])
    meta = discovery(server)
    oauth = OAuth2Session(app["client_id"], redirect_uri=REDIRECT, scope=["files:read"], pkce="S256")
    url, state = oauth.authorization_url(meta["authorization_endpoint"])
    location = follow_authorize(server, session, url)
    token = oauth.fetch_token(meta["token_endpoint"], authorization_response=location, client_secret=app["client_secret"])
    assert token["scope"] == ["files:read"] or token["scope"] == "files:read"
    refreshed = oauth.refresh_token(meta["token_endpoint"], auth=(app["client_id"], app["client_secret"]))
    assert refreshed["access_token"] != token["access_token"]
    revoked = requests.post(meta["revocation_endpoint"], data={"token": refreshed["refresh_token"]},
                            auth=(app["client_id"], app["client_secret"]))
    assert revoked.status_code == 200
    introspected = requests.post(meta["introspection_endpoint"], data={"token": refreshed["access_token"]},
                                 auth=(app["client_id"], app["client_secret"])).json()
    assert introspected == {"active": False}


def test_pyoidc_discovery_code_exchange_and_its_own_id_token_validation(server):
    from oic.oic import Client
    from oic.oic.message import AuthorizationResponse, RegistrationResponse
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD

    session = signed_in_session(server)
    app = register_app(server, session, [REDIRECT])
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
    client.provider_config(server.base_url)
    client.store_registration_info(RegistrationResponse(
        client_id=app["client_id"], client_secret=app["client_secret"], redirect_uris=[REDIRECT]))
    client.redirect_uris = [REDIRECT]
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    request = client.construct_AuthorizationRequest(request_args={
        "client_id": app["client_id"], "response_type": "code", "scope": ["openid", "files:read"], "nonce": nonce,
        "redirect_uri": REDIRECT, "state": state,
    })
    location = follow_authorize(server, session, request.request(client.authorization_endpoint))
    response = client.parse_response(AuthorizationResponse, info=urllib.parse.urlsplit(location).query, sformat="urlencoded")
    assert response["state"] == state
    token = client.do_access_token_request(state=state, request_args={"code": response["code"]}, authn_method="client_secret_basic")
    id_token = token["id_token"]  # pyoidc has checked its signature, iss, aud, nonce and at_hash
    assert id_token["nonce"] == nonce and id_token["aud"] == [app["client_id"]]
    userinfo = client.do_user_info_request(state=state)
    assert userinfo["email"] == "owner@example.com"


def test_authlib_finds_the_server_from_the_api_and_binds_its_token_with_resource(server):
    """SPEC §6 with an unmodified library: from a 401 of the portal API alone (RFC 9728) to a token whose
    `aud` is that API (RFC 8707), a refresh that names it again, and `invalid_target` for a resource
    that was not granted."""
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.integrations.base_client.errors import OAuthError

    refused = requests.get(server.base_url + "/api/2.0/files/@my")
    assert refused.status_code == 401
    challenge = refused.headers["WWW-Authenticate"]
    metadata_url = challenge.split('resource_metadata="', 1)[1].split('"', 1)[0]
    resource_metadata = requests.get(metadata_url).json()
    api = resource_metadata["resource"]
    assert api == server.base_url + "/api/2.0" and "files:read" in resource_metadata["scopes_supported"]
    meta = requests.get(resource_metadata["authorization_servers"][0] + "/.well-known/oauth-authorization-server").json()

    session = signed_in_session(server)
    app = register_app(server, session, [REDIRECT])
    client = OAuth2Session(app["client_id"], app["client_secret"], scope="files:read", redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, resource=api)
    location = follow_authorize(server, session, url)
    token = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier, resource=api)
    claims = verify_with_pyjwt(server, token["access_token"], api, "ES256")
    assert claims["aud"] == api
    assert client.get(api + "/files/@my").status_code == 200

    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"], resource=api)
    assert verify_with_pyjwt(server, refreshed["access_token"], api, "ES256")["aud"] == api
    try:
        client.refresh_token(meta["token_endpoint"], refresh_token=refreshed["refresh_token"], resource=server.base_url + "/mcp")
        raise AssertionError("a resource that was not granted gave a token")
    except OAuthError as error:
        assert error.error == "invalid_target"


def test_authlib_gets_a_token_for_each_resource_granted_and_narrows_on_refresh(server):
    """RFC 8707 with both of the portal's resources granted at once: the code exchange asks for the API
    only, a refresh for /mcp only, another for both; each token's `aud` is what was asked, each resource
    refuses the other's token (401 with its challenge), and an unknown resource is `invalid_target`."""
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.integrations.base_client.errors import OAuthError

    meta = discovery(server)
    api, mcp = server.base_url + "/api/2.0", server.base_url + "/mcp"
    session = signed_in_session(server)
    app = register_app(server, session, [REDIRECT], scopes=("files:read", "accounts.self:read", "openid"))
    client = OAuth2Session(app["client_id"], app["client_secret"], scope="files:read accounts.self:read", redirect_uri=REDIRECT,
                           code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, resource=api)
    url += "&" + urllib.parse.urlencode({"resource": mcp})  # RFC 8707 §2: the parameter may be repeated
    # The consent form carries both resource fields; posted back as a list (a dict would keep one).
    import html
    import re
    page = session.get(url, allow_redirects=False)
    fields = [(name, html.unescape(value)) for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)]
    assert [value for name, value in fields if name == "resource"] == [api, mcp], fields
    answer = session.post(server.base_url + "/oauth2/authorize", data=fields + [("consent", "allow")], allow_redirects=False)
    assert answer.status_code == 302, answer.text[:300]
    location = answer.headers["Location"]
    token = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier, resource=api)
    assert verify_with_pyjwt(server, token["access_token"], api, "ES256")["aud"] == api
    for_mcp = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"], resource=mcp)
    assert verify_with_pyjwt(server, for_mcp["access_token"], mcp, "ES256")["aud"] == mcp
    both = client.refresh_token(meta["token_endpoint"], refresh_token=for_mcp["refresh_token"])
    assert sorted(verify_with_pyjwt(server, both["access_token"], api, "ES256")["aud"]) == sorted([api, mcp])

    whoami = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    refused = requests.post(mcp, json=whoami, headers={**headers, "Authorization": "Bearer " + token["access_token"]})
    assert refused.status_code == 401 and 'resource_metadata="' + server.base_url + '/.well-known/oauth-protected-resource/mcp"' in refused.headers["WWW-Authenticate"]
    assert requests.post(mcp, json=whoami, headers={**headers, "Authorization": "Bearer " + for_mcp["access_token"]}).status_code == 200
    refused = requests.get(api + "/people/@self", headers={"Authorization": "Bearer " + for_mcp["access_token"]})
    assert refused.status_code == 401 and "resource_metadata=" in refused.headers["WWW-Authenticate"]
    assert requests.get(api + "/people/@self", headers={"Authorization": "Bearer " + token["access_token"]}).status_code == 200
    try:
        client.refresh_token(meta["token_endpoint"], refresh_token=both["refresh_token"], resource="https://elsewhere.example/api")
        raise AssertionError("an unknown resource gave a token")
    except OAuthError as error:
        assert error.error == "invalid_target"
