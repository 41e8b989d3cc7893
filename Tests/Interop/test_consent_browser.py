"""The consent screen in a real headless Chromium: what a person sees, and Allow."""
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from oauth_helpers import register_app, signed_in_session
from test_developer_tools import shot, sign_in

REDIRECT = "http://127.0.0.1:9/callback"


def test_consent_page_allow_returns_a_code(server, browser, screenshots):
    app = register_app(server, signed_in_session(server), [REDIRECT], scopes=["files:write", "openid"])
    sign_in(browser, server)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT, "scope": "openid files:write",
        "state": "browser-state", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
    })
    browser.get(server.base_url + "/oauth2/authorize?" + query)
    assert browser.find_element(By.ID, "consent-app").text == "Interop App"
    scopes = browser.find_element(By.ID, "scope-list").text
    assert "View and manage all files and folders" in scopes and "View your personal data" in scopes
    assert browser.find_element(By.ID, "not-you").is_displayed()
    shot(browser, screenshots, "12-consent")
    browser.find_element(By.ID, "allow").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.startswith(REDIRECT))
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(browser.current_url).query))
    assert params["state"] == "browser-state" and params["code"] and params["iss"] == server.base_url
