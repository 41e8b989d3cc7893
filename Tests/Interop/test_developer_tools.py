"""Developer Tools › OAuth 2.0 driven in a real headless Chromium, as a person would use it."""
import time

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import OWNER_EMAIL, OWNER_PASSWORD, png


def settle(browser):
    """A wait that keeps retrying while a click's navigation replaces the page: the element read may be
    from the page going away (stale) or not on the new one yet."""
    return WebDriverWait(browser, 10, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def shot(browser, screenshots, name):
    browser.save_screenshot(str(screenshots / f"{name}.png"))


def sign_in(browser, server):
    browser.get(server.base_url + "/login?redirect=/developer-tools/oauth")
    browser.find_element(By.ID, "email").send_keys(OWNER_EMAIL)
    browser.find_element(By.ID, "password").send_keys(OWNER_PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/developer-tools/oauth"))


def test_register_list_regenerate_disable_delete(server, browser, screenshots, tmp_path):
    browser.get(server.base_url + "/login")
    shot(browser, screenshots, "01-sign-in")
    sign_in(browser, server)
    shot(browser, screenshots, "02-app-list")

    browser.find_element(By.ID, "register-app").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/developer-tools/oauth/new"))
    browser.find_element(By.ID, "name").send_keys("Docs Sync")
    browser.find_element(By.ID, "website_url").send_keys("https://sync.example.com")
    browser.find_element(By.ID, "description").send_keys("Keeps documents in sync")

    # A 64×64 picture: the page scales it to 32×32 on a canvas before upload.
    picture = tmp_path / "picture.png"
    picture.write_bytes(png(64, 64))
    browser.find_element(By.ID, "logo").send_keys(str(picture))
    settle(browser).until(lambda b: b.find_element(By.ID, "logo-preview").get_attribute("hidden") is None)
    WebDriverWait(browser, 10).until(
        lambda b: b.execute_script("return document.getElementById('logo').files[0].name") == "picture.png"
        and b.execute_script("return document.getElementById('logo').files[0].size") != len(png(64, 64))
    )

    redirects = browser.find_elements(By.NAME, "redirect_uris")
    redirects[0].send_keys("https://sync.example.com/callback")
    browser.find_element(By.CSS_SELECTOR, 'button[data-add="redirect_uris"]').click()
    redirects = browser.find_elements(By.NAME, "redirect_uris")
    assert len(redirects) == 2
    redirects[1].send_keys("http://127.0.0.1:8765/callback")
    browser.find_element(By.NAME, "allowed_origins").send_keys("https://sync.example.com")

    # Ticking Write ticks Read.
    write = browser.find_element(By.ID, "scope-files:write")
    read = browser.find_element(By.ID, "scope-files:read")
    assert not read.is_selected()
    write.click()
    assert read.is_selected()
    browser.find_element(By.ID, "scope-openid").click()

    browser.find_element(By.ID, "policy_url").send_keys("https://sync.example.com/privacy")
    browser.find_element(By.ID, "terms_url").send_keys("https://sync.example.com/terms")
    shot(browser, screenshots, "03-registration-form")
    browser.find_element(By.ID, "save-app").click()

    secret = browser.find_element(By.ID, "client-secret").text
    client_id = browser.find_element(By.ID, "client-id").text
    assert len(secret) >= 43
    assert "will not be shown again" in browser.find_element(By.ID, "secret-warning").text
    shot(browser, screenshots, "04-app-created-with-secret")

    browser.get(server.base_url + "/developer-tools/oauth")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-client-id="{client_id}"]')
    assert "Docs Sync" in row.text
    icon = row.find_element(By.CSS_SELECTOR, "img.app-icon")
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return arguments[0].naturalWidth", icon) == 32)
    shot(browser, screenshots, "05-app-list")

    row.find_element(By.CSS_SELECTOR, "a.app-name").click()
    WebDriverWait(browser, 10).until(EC.url_contains(client_id))
    assert not browser.find_elements(By.ID, "client-secret")
    shot(browser, screenshots, "06-app-details")

    browser.find_element(By.ID, "regenerate-secret").click()
    new_secret = settle(browser).until(lambda b: b.find_element(By.ID, "client-secret").text)
    assert new_secret and new_secret != secret
    shot(browser, screenshots, "07-secret-regenerated")

    browser.find_element(By.ID, "toggle-app").click()
    settle(browser).until(lambda b: b.find_element(By.ID, "app-status").text == "Disabled")
    shot(browser, screenshots, "08-app-disabled")

    browser.find_element(By.ID, "delete-app").click()
    shot(browser, screenshots, "09-delete-confirmation")
    browser.find_element(By.ID, "confirm-delete").click()
    WebDriverWait(browser, 10).until(EC.url_contains("deleted=1"))
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-client-id="{client_id}"]')
    shot(browser, screenshots, "10-app-deleted")


def test_phone_sized_registration_form(server, browser, screenshots):
    browser.set_window_size(390, 844)
    sign_in(browser, server)
    browser.get(server.base_url + "/developer-tools/oauth/new")
    # Measured once the window has its phone size and the page is laid out (a resize can lag on a busy machine).
    WebDriverWait(browser, 10).until(lambda b: b.execute_script(
        "return document.readyState === 'complete' && window.innerWidth <= 390 && !!document.querySelector('form')"))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the form overflows a phone screen ({width}px)"
    shot(browser, screenshots, "11-registration-form-phone")


def test_api_keys_page_makes_a_key_that_works_until_turned_off(server, browser, screenshots):
    """SPEC §7 in a real Chromium: the API keys tab, a Restricted key made through the form and shown once,
    used as a bearer, "Last used" filled in, turned off (401), deleted."""
    import requests

    sign_in(browser, server)
    browser.find_element(By.ID, "api-keys-tab").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/developer-tools/api-keys"))
    browser.find_element(By.ID, "key-name").send_keys("Nightly export")
    browser.find_element(By.CSS_SELECTOR, 'input[name="access"][value="restricted"]').click()
    browser.find_element(By.CSS_SELECTOR, 'input[name="permissions"][value="files:read"]').click()
    browser.find_element(By.ID, "key-days").send_keys("30")
    browser.find_element(By.ID, "create-key-button").click()
    secret = settle(browser).until(lambda b: b.find_element(By.ID, "new-key").text)
    assert secret.startswith("sk-") and len(secret) == 67, secret
    shot(browser, screenshots, "12-api-key-made")
    row = browser.find_element(By.CSS_SELECTOR, "#key-list tbody tr")
    assert "Nightly export" in row.text and "files:read" in row.text and secret not in browser.page_source.replace(
        browser.find_element(By.ID, "new-key").get_attribute("outerHTML"), "")
    assert "Never" in row.find_element(By.CLASS_NAME, "last-used").text

    bearer = {"Authorization": "Bearer " + secret}
    assert requests.get(server.base_url + "/api/2.0/files/@my", headers=bearer).status_code == 200
    assert requests.get(server.base_url + "/api/2.0/people/@self", headers=bearer).status_code == 403, "files:read only"

    browser.get(server.base_url + "/developer-tools/api-keys")
    assert "Never" not in browser.find_element(By.CSS_SELECTOR, "#key-list .last-used").text
    assert secret not in browser.page_source, "the key is shown once"
    browser.find_element(By.CSS_SELECTOR, '#key-list button.switch').click()
    settle(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, "#key-list button.switch").text == "Inactive")
    shot(browser, screenshots, "13-api-key-off")
    refused = requests.get(server.base_url + "/api/2.0/files/@my", headers=bearer)
    assert refused.status_code == 401 and "invalid_token" in refused.headers["WWW-Authenticate"]

    browser.find_element(By.CSS_SELECTOR, '#key-list button.danger').click()
    WebDriverWait(browser, 10).until(EC.url_contains("deleted=1"))
    assert browser.find_elements(By.ID, "no-keys") or not any(
        "Nightly export" in row.text for row in browser.find_elements(By.CSS_SELECTOR, "#key-list tbody tr"))


def test_auth_button_link_and_snippets_work_as_pasted(server, browser, screenshots, tmp_path):
    """SPEC §7's Auth button: its page in Chromium; its authorize link followed as given; the authlib
    snippet run as pasted (with the secret and the address the browser came back to in the environment)
    and the curl line run as printed, each getting a token the API takes."""
    import html
    import os
    import re
    import subprocess
    import sys

    from oauth_helpers import follow_authorize, query_of, register_app, signed_in_session

    session = signed_in_session(server)
    app = register_app(server, session, ["http://127.0.0.1:8765/callback"], scopes=("files:read", "openid"))
    page_url = f"{server.base_url}/developer-tools/oauth/{app['client_id']}/auth-button"

    sign_in(browser, server)
    browser.get(f"{server.base_url}/developer-tools/oauth/{app['client_id']}")
    browser.find_element(By.ID, "auth-button").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/auth-button"))
    assert browser.find_element(By.ID, "preview").text.startswith("Sign in with")
    shot(browser, screenshots, "14-auth-button")

    def fresh():
        """The page as shown now: its link, verifier and snippets (a fresh PKCE pair each time)."""
        text = session.get(page_url).text
        def code(element):
            return html.unescape(re.search(rf'<code id="{element}">(.*?)</code>', text, re.S).group(1))
        return code("authorize-link"), code("code-verifier"), code("token-python"), code("token-curl")

    link, verifier, python, curl = fresh()
    assert f"client_id={app['client_id']}" in link and "code_challenge_method=S256" in link and verifier in python
    redirected_to = follow_authorize(server, session, link)
    script = tmp_path / "snippet.py"  # not token.py, which would hide the standard library's token module
    script.write_text(python)
    environment = dict(os.environ, CLIENT_SECRET=app["client_secret"], REDIRECTED_TO=redirected_to, AUTHLIB_INSECURE_TRANSPORT="1")
    ran = subprocess.run([sys.executable, str(script)], env=environment, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    token = ran.stdout.strip()
    assert session.get(server.base_url + "/api/2.0/files/@my", headers={"Authorization": "Bearer " + token}).status_code == 200

    link, verifier, python, curl = fresh()
    code = query_of(follow_authorize(server, session, link))["code"]
    line = curl.replace("YOUR_CLIENT_SECRET", app["client_secret"])
    ran = subprocess.run(["bash", "-c", line], env=dict(os.environ, CODE=code), capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and '"access_token"' in ran.stdout, ran.stdout + ran.stderr


def test_row_menu_generate_token_and_many_apps_at_once(server, browser, screenshots):
    """SPEC §7's list in Chromium: the table's row menu opens Generate token, whose dialog shows the
    token once with Created and Expires; the token works on the API until the dialog's Revoke; then two
    apps are disabled together (their token items greyed out) and deleted together after a confirmation."""
    import requests

    from oauth_helpers import register_app, signed_in_session

    session = signed_in_session(server)
    first = register_app(server, session, ["https://first.example.com/cb"], scopes=("files:read", "openid"))
    second = register_app(server, session, ["https://second.example.com/cb"], scopes=("rooms:read",))

    sign_in(browser, server)
    browser.get(server.base_url + "/developer-tools/oauth")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-client-id="{first["client_id"]}"]')
    assert "files:read" in row.find_element(By.CLASS_NAME, "scope-tags").text
    assert row.find_element(By.CLASS_NAME, "creator").text
    row.find_element(By.CSS_SELECTOR, "details.row-menu summary").click()
    shot(browser, screenshots, "15-app-row-menu")
    row.find_element(By.CLASS_NAME, "menu-generate-token").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/developer-token"))
    browser.find_element(By.CSS_SELECTOR, 'input[name="scope"][value="openid"]').click()  # files:read only
    browser.find_element(By.ID, "generate-token").click()
    token = settle(browser).until(lambda b: b.find_element(By.ID, "developer-token").text)
    assert browser.find_element(By.ID, "token-created").text and browser.find_element(By.ID, "token-expires").text
    assert browser.find_element(By.ID, "token-scopes").text == "files:read"
    shot(browser, screenshots, "16-developer-token")
    bearer = {"Authorization": "Bearer " + token}
    assert requests.get(server.base_url + "/api/2.0/files/@my", headers=bearer).status_code == 200
    browser.refresh()
    assert not browser.find_elements(By.ID, "developer-token"), "shown once"
    browser.back()

    browser.get(browser.current_url.split("?")[0])
    browser.execute_script("window.confirm = function () { return true; };")
    browser.find_element(By.ID, "revoke-current-token").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=token-revoked"))
    assert "was revoked" in browser.find_element(By.ID, "notice").text
    assert requests.get(server.base_url + "/api/2.0/files/@my", headers=bearer).status_code == 401

    browser.get(server.base_url + "/developer-tools/oauth")
    for app in (first, second):
        browser.find_element(By.CSS_SELECTOR, f'input.select-app[value="{app["client_id"]}"]').click()
    browser.find_element(By.ID, "disable-selected").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=disabled"))
    assert "2 apps were disabled" in browser.find_element(By.ID, "notice").text
    for app in (first, second):
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-client-id="{app["client_id"]}"]')
        assert row.find_element(By.CSS_SELECTOR, "button.switch").text == "Disabled"
        assert len(row.find_elements(By.CLASS_NAME, "menu-disabled")) == 3
    shot(browser, screenshots, "17-two-apps-disabled")
    for app in (first, second):
        browser.find_element(By.CSS_SELECTOR, f'input.select-app[value="{app["client_id"]}"]').click()
    browser.find_element(By.ID, "delete-selected").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "selected-apps")))
    shot(browser, screenshots, "18-delete-two-apps")
    browser.find_element(By.ID, "confirm-delete").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=deleted"))
    for app in (first, second):
        assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-client-id="{app["client_id"]}"]')


def test_personal_access_token_grant_over_http(server):
    """SPEC §7's grant against the running binary, as DocSpace's client sends it: Basic client
    authentication, scope, and the person's session cookie from the portal's own page; no refresh token.
    The same request from another site's page is refused and issues nothing."""
    import requests

    from oauth_helpers import register_app, signed_in_session

    session = signed_in_session(server)  # sends Sec-Fetch-Site: same-origin, as the portal's pages do
    app = register_app(server, session, ["https://pat.example.com/cb"], scopes=("files:read", "openid"))
    auth = (app["client_id"], app["client_secret"])
    answer = session.post(server.base_url + "/oauth2/token", data={"grant_type": "personal_access_token", "scope": "files:read"}, auth=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"} and body["scope"] == "files:read"
    bearer = {"Authorization": "Bearer " + body["access_token"]}
    assert requests.get(server.base_url + "/api/2.0/files/@my", headers=bearer).status_code == 200

    foreign = requests.post(server.base_url + "/oauth2/token", data={"grant_type": "personal_access_token", "scope": "files:read"},
                            auth=auth, cookies=session.cookies, headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert foreign.status_code == 400 and foreign.json()["error"] == "invalid_grant"
    assert requests.get(server.base_url + "/api/2.0/files/@my", headers=bearer).status_code == 200, "the refusal changed nothing"
    assert "personal_access_token" in requests.get(server.base_url + "/.well-known/openid-configuration").json()["grant_types_supported"]
