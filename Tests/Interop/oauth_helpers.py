"""Helpers shared by the interop tests: a signed-in requests session and a registered app."""
import base64
import re
import urllib.parse

import requests

from conftest import OWNER_EMAIL, OWNER_PASSWORD, png


def signed_in_session(server) -> requests.Session:
    session = requests.Session()
    # What a browser sends with requests made by the portal's own pages (Fetch Metadata); without it a
    # change made with the session cookie alone is refused as possibly cross-site.
    session.headers["Sec-Fetch-Site"] = "same-origin"
    page = session.get(server.base_url + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = session.post(server.base_url + "/login", data={"csrf_token": token, "email": OWNER_EMAIL, "password": OWNER_PASSWORD},
                            allow_redirects=False)
    assert response.status_code == 303
    return session


def register_app(server, session, redirect_uris, scopes=("files:read", "openid"), allow_pkce=True, origins=("https://app.example.com",),
                 logout_redirect_uri=None):
    body = {
        "name": "Interop App", "description": "client library interop", "website_url": "https://app.example.com",
        "logo": "data:image/png;base64," + base64.b64encode(png(32, 32)).decode(), "allow_pkce": allow_pkce,
        "redirect_uris": list(redirect_uris), "allowed_origins": list(origins), "scopes": list(scopes),
        "policy_url": "https://app.example.com/privacy", "terms_url": "https://app.example.com/terms",
    }
    if logout_redirect_uri:
        body["logout_redirect_uri"] = logout_redirect_uri
    response = session.post(server.base_url + "/api/2.0/clients", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def follow_authorize(server, session, authorize_url, consent="allow"):
    """Opens the authorization URL as the signed-in browser would, clicks Allow (or Deny) on the
    consent page when it is shown, and answers the redirect back to the app."""
    response = session.get(authorize_url, allow_redirects=False)
    if response.status_code == 200 and 'action="/oauth2/authorize"' in response.text:
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text))
        fields = {k: html_unescape(v) for k, v in fields.items()}
        fields["consent"] = consent
        response = session.post(server.base_url + "/oauth2/authorize", data=fields, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def html_unescape(text):
    import html
    return html.unescape(text)


def query_of(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
