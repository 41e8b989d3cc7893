"""The OpenAPI document served at /api/2.0/openapi.json against the real binary, by schemathesis 4.x.

A server of its own (its failed sign-ins trip the per-address throttle, and its calls change and delete
what they find), a little data for the paths with ids to hit, then two schemathesis runs over every
operation: one with a portal token, one with an OAuth access token holding every scope. Any 5xx, and any
answer the document does not allow (status, content type, body, headers), fails the test; so does a
request that the document calls valid and the server refuses, except where a rule cannot be written in
the schema (POSITIVE_DATA_EXCLUDED).
"""
import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
from importlib.metadata import version

import pytest
import requests

from conftest import OWNER_EMAIL, OWNER_PASSWORD, running_gatehouse
from oauth_helpers import follow_authorize, query_of, register_app, signed_in_session

# Generated cases per operation in the fuzzing phase; the coverage phase adds its boundary cases and the
# stateful phase its scenarios. With 25 the whole test takes about a minute on two cores.
MAX_EXAMPLES = 25

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
]

# Operations schemathesis does not call, and why. They are described in the document all the same.
NOT_CALLED = {
    "authorize": "a page for a signed-in browser (RFC 6749 §4.1.1): without its session it only redirects to /login",
    "authorizeConsent": "the consent page's own form, bound to the browser's session and CSRF cookie",
    "endSession": "a page for a signed-in browser (RP-Initiated Logout §2)",
    "endSessionByPost": "a page for a signed-in browser (RP-Initiated Logout §2), answered with its CSRF token",
}

# Operations whose rules the schema cannot express: positive_data_acceptance (a request the document
# calls valid is accepted) is off for these alone; every other check still runs on them.
POSITIVE_DATA_EXCLUDED = {
    "registerClient": "the icon's pixels (exactly 32x32 px, or a square SVG without scripts) and each URL field's rules",
    "updateClient": "the icon's pixels (exactly 32x32 px, or a square SVG without scripts) and each URL field's rules",
    "uploadFile": "an upload's bytes and its file name, which is the title",
    "registerClientDynamically": "each redirect URI's rules, and the policy's (loopback or private-use schemes for public clients)",
    "updateClientRegistration": "each redirect URI's rules, and the policy's, re-checked on every update",
    "userInfoByPost": "the access token goes in the header or in the form, never both (RFC 6750 §2): a rule across header and body",
    # These authenticate the app with Basic here; the generated form may add a client_secret as well.
    "token": "one client authentication method per request (RFC 6749 §2.3): a rule across header and body",
    "introspect": "one client authentication method per request (RFC 6749 §2.3): a rule across header and body",
    "revoke": "one client authentication method per request (RFC 6749 §2.3): a rule across header and body",
}

# The endpoints that authenticate an app (RFC 6749 §2.3.1), here with Basic. (An operation's own headers must
# replace, never remove, the others': schemathesis keeps the first operation's headers on each worker's session.)
CLIENT_AUTHENTICATED = ["token", "introspect", "revoke"]


def pinned_values(ids):
    """Parameters pinned per operation: the ids of the seeded objects, the app's client_id where the form may
    repeat the Basic one, and values of the body where a rule is one of the data (a folder moves only within its
    own tree and never into itself; an invitation names a person of this portal). The rest is generated."""
    app = {"body.client_id": ids["machineID"]}
    return {
        "getPerson": {"path.id": ids["person"]}, "updatePerson": {"path.id": ids["person"]},
        "removePerson": {"path.id": ids["doomedPerson"]},
        "getFolderContent": {"path.folderId": ids["folder"]}, "uploadFile": {"path.folderId": ids["folder"]},
        "createFolder": {"path.id": ids["folder"]}, "getFolder": {"path.id": ids["folder"]},
        "updateFolder": {"path.id": ids["folder"], "body.parentId": ids["myDocuments"]},
        "deleteFolder": {"path.id": ids["doomedFolder"]},
        "getFile": {"path.fileId": ids["file"]}, "renameFile": {"path.fileId": ids["file"]}, "downloadFile": {"path.fileId": ids["file"]},
        "deleteFile": {"path.fileId": ids["doomedFile"]},
        "getRoom": {"path.id": ids["room"]}, "updateRoom": {"path.id": ids["room"]}, "listRoomMembers": {"path.id": ids["room"]},
        "shareRoom": {"path.id": ids["room"], "body.invitations[*].id": ids["person"]},
        "deleteRoom": {"path.id": ids["doomedRoom"]},
        **{operation: {"path.client_id": ids["client"]}
           for operation in ["getClient", "updateClient", "regenerateClientSecret", "setClientActivation", "getClientPublicInfo"]},
        "withdrawConsent": {"path.client_id": ids["consentedClient"]},
        "deleteClient": {"path.client_id": ids["doomedClient"]},
        "token": app, "introspect": app, "revoke": app,
        "readClientRegistration": {"path.client_id": ids["registered"]},
        "updateClientRegistration": {"path.client_id": ids["registered"], "body.client_id": ids["registered"]},
        "deleteClientRegistration": {"path.client_id": ids["doomedRegistered"]},
    }


# Operations that answer no 2xx to schemathesis, and why; every other operation must answer one at least once,
# so that the shape of its success is checked too.
NEVER_SUCCEEDS = {
    "signIn": "schemathesis does not know a password; a wrong one is 401 (and soon 429)",
    "token": "schemathesis has no code or refresh token to exchange",
    "registerClientDynamically": "a registration's redirect URIs must be loopback or private-use URLs under the default policy, which "
                                 "generated strings are not (tests/DynamicRegistrationTests and the MCP interop test register for real)",
    "updateClientRegistration": "the same rules of the redirect URIs, re-checked on every update (RFC 7592 §2.2)",
}

ALL_SCOPES = ["accounts.self:write", "accounts:write", "files:write", "rooms:write", "openid"]
REDIRECT_URI = "http://127.0.0.1/contract-callback"


@pytest.fixture(scope="module")
def portal():
    # schemathesis sends thousands of calls a minute; the budgets themselves are tested elsewhere.
    budget = "1000000"
    with running_gatehouse("gatehouse-contract-", GATEHOUSE_LOG_LEVEL="error", GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE=budget,
                           GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE=budget, GATEHOUSE_CLIENTS_API_READS_PER_MINUTE=budget,
                           # The generated POSTs make many keys; the per-person limit (a 400, SPEC §7) is a rule of the data.
                           GATEHOUSE_API_KEYS_PER_PERSON="10000",
                           # Three runs each seed apps and register more; the app limits (a 400) are rules of the data too.
                           GATEHOUSE_CLIENTS_PER_PERSON="10000", GATEHOUSE_CLIENTS_PER_PORTAL="100000",
                           # So is the per-address budget of dynamic registrations (a 429, tested in Swift).
                           GATEHOUSE_REGISTRATIONS_PER_HOUR="1000000") as running:
        yield running


def portal_token(base):
    response = requests.post(base + "/api/2.0/authentication", json={"userName": OWNER_EMAIL, "password": OWNER_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["response"]["token"]


def oauth_token(portal, session):
    """An access token for the owner holding every scope, by the authorization-code flow with PKCE."""
    app = register_app(portal, session, [REDIRECT_URI], scopes=ALL_SCOPES)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = portal.base_url + "/oauth2/authorize?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT_URI, "scope": " ".join(ALL_SCOPES),
        "state": "contract", "code_challenge": challenge, "code_challenge_method": "S256",
    })
    code = query_of(follow_authorize(portal, session, authorize))["code"]
    response = requests.post(portal.base_url + "/oauth2/token", auth=(app["client_id"], app["client_secret"]), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
    })
    assert response.status_code == 200, response.text
    granted = response.json()
    assert set(granted["scope"].split()) >= set(ALL_SCOPES), granted["scope"]
    return granted["access_token"]


def seed(portal, session, token, label):
    """What the paths with ids point at: objects to read and change, and others to delete."""
    base, headers = portal.base_url, {"Authorization": "Bearer " + token}

    def made(response):
        assert response.status_code == 201, response.text
        return response.json()["response"]["id"]

    def person(name):
        return made(requests.post(base + "/api/2.0/people", headers=headers, json={
            "email": f"{name}-{label}@example.com", "password": "person-password-1", "firstName": name.title(), "role": "user"}))

    my = requests.get(base + "/api/2.0/files/@my", headers=headers).json()["response"]["current"]["id"]
    folder = made(requests.post(base + f"/api/2.0/files/folder/{my}", headers=headers, json={"title": f"Kept {label}"}))

    def upload(title):
        return made(requests.post(base + f"/api/2.0/files/{folder}/upload", headers=headers,
                                  files={"file": (title, b"The contract test's file.\n" * 40, "text/plain")}))

    def app():
        return register_app(portal, session, [REDIRECT_URI], scopes=["files:read", "openid"])

    consented, machine = app(), app()
    # The caller's consent to an app that nothing else changes, for withdrawConsent to withdraw.
    follow_authorize(portal, session, base + "/oauth2/authorize?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": consented["client_id"], "redirect_uri": REDIRECT_URI, "scope": "files:read",
        "state": "consent", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
    }))

    def registered():
        """An app that registered itself (RFC 7591), with its registration access token (RFC 7592)."""
        response = requests.post(base + "/oauth2/register", json={
            "redirect_uris": ["http://127.0.0.1/contract-callback"], "client_name": f"Contract {label}", "token_endpoint_auth_method": "none"})
        assert response.status_code == 201, response.text
        return response.json()["client_id"], response.json()["registration_access_token"]

    def room(title):
        return made(requests.post(base + "/api/2.0/files/rooms", headers=headers, json={"title": title}))

    return {
        "person": person("kept"), "doomedPerson": person("doomed"),
        "myDocuments": my, "folder": folder,
        "doomedFolder": made(requests.post(base + f"/api/2.0/files/folder/{my}", headers=headers, json={"title": f"Doomed {label}"})),
        "file": upload("kept.txt"), "doomedFile": upload("doomed.txt"),
        "room": room(f"Kept room {label}"), "doomedRoom": room(f"Doomed room {label}"),
        "client": app()["client_id"], "doomedClient": app()["client_id"], "consentedClient": consented["client_id"],
        # The OAuth endpoints authenticate an app, not a person.
        "machineID": machine["client_id"], "machineSecret": machine["client_secret"],
        **dict(zip(["registered", "registrationToken"], registered())),
        **dict(zip(["doomedRegistered", "doomedRegistrationToken"], registered())),
    }


def toml_value(value):
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def configuration(ids, token):
    """schemathesis.toml: the token, the checks, each operation's pinned values and its exclusions."""
    def entry(operations, *settings):
        return ["[[operations]]", "include-operation-id = [" + ", ".join(toml_value(o) for o in operations) + "]", *settings, ""]

    # The checks are named here rather than on the command line, which would override the operations' own settings.
    lines = [f"headers = {{ Authorization = {toml_value('Bearer ' + token)} }}", "",
             "[checks]", "enabled = false"] + [f"{check}.enabled = true" for check in CHECKS] + [""]
    basic = "Basic " + base64.b64encode(f"{ids['machineID']}:{ids['machineSecret']}".encode()).decode()
    lines += entry(CLIENT_AUTHENTICATED, f"headers = {{ Authorization = {toml_value(basic)} }}")
    # RFC 7592: the registration access token of the app each operation names.
    lines += entry(["readClientRegistration", "updateClientRegistration"],
                   f"headers = {{ Authorization = {toml_value('Bearer ' + ids['registrationToken'])} }}")
    lines += entry(["deleteClientRegistration"], f"headers = {{ Authorization = {toml_value('Bearer ' + ids['doomedRegistrationToken'])} }}")
    pinned = pinned_values(ids)
    for operation, values in pinned.items():
        lines += entry([operation], "parameters = { " + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in values.items()) + " }")
    lines += entry(POSITIVE_DATA_EXCLUDED, "checks.positive_data_acceptance.enabled = false")
    # Only the fuzzing phase takes pinned values of a body (coverage makes its own, stateful follows links), so only
    # there do the rules they keep hold.
    lines += entry([operation for operation, values in pinned.items() if any(key.startswith("body.") for key in values)],
                   "phases.coverage.checks.positive_data_acceptance.enabled = false",
                   "phases.stateful.checks.positive_data_acceptance.enabled = false")
    # schemathesis' own list, and 416: RFC 9110 §15.5.17, a range outside the file, however well-formed the request.
    lines += entry(["downloadFile"],
                   'checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "416", "429", "5xx"]')
    return "\n".join(lines)


def run_schemathesis(portal, token, ids, label, tmp_path):
    config = tmp_path / f"schemathesis-{label}.toml"
    config.write_text(configuration(ids, token))
    har = tmp_path / f"schemathesis-{label}.har"
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
        "run", portal.base_url + "/api/2.0/openapi.json",
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "2",
        "--request-timeout", "30",
        "--exclude-operation-id-regex", "^(" + "|".join(NOT_CALLED) + ")$",
        "--output-truncate", "true",
        "--report", "har", "--report-har-path", str(har),
    ]
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    output = result.stdout + result.stderr
    (tmp_path / f"schemathesis-{label}.log").write_text(output)
    summary = output[output.rfind("SUMMARY"):] if "SUMMARY" in output else output[-4000:]
    print(f"\nschemathesis with the {label} token, {time.time() - started:.0f} s:\n{summary}")
    if result.returncode != 0:
        failures = output[output.find("FAILURES"):output.find("WARNINGS")] if "FAILURES" in output else output
        lines = [line if len(line) <= 600 else line[:600] + " …" for line in failures.splitlines()]
        pytest.fail(f"schemathesis found answers the document does not allow (with the {label} token):\n" + "\n".join(lines[:400]))
    return output, har


def operations(portal):
    """operationId → (method, path template) of every operation of the served document, in the order the
    router prefers them: a constant segment before a parameter (`/files/@my` before `/files/{folderId}`)."""
    document = requests.get(portal.base_url + "/api/2.0/openapi.json").json()
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    found = [(operation["operationId"], method.upper(), path)
             for path, item in document["paths"].items() for method, operation in item.items() if method in methods]
    found.sort(key=lambda entry: [segment.startswith("{") for segment in entry[2].split("/")])
    return {operation_id: (method, path) for operation_id, method, path in found}


def statuses(har, described):
    """operationId → the statuses schemathesis got, read from its HAR report."""
    patterns = {operation_id: (method, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"))
                for operation_id, (method, path) in described.items()}
    seen = {}
    for entry in json.loads(har.read_text())["log"]["entries"]:
        path = urllib.parse.urlsplit(entry["request"]["url"]).path
        for operation_id, (method, pattern) in patterns.items():
            if entry["request"]["method"] == method and pattern.match(path):
                seen.setdefault(operation_id, set()).add(entry["response"]["status"])
                break
    return seen


def operations_tested(output):
    found = re.search(r"Tested:\s+(\d+)", output)
    return int(found.group(1)) if found else -1


def test_the_server_keeps_to_its_openapi_document(portal, tmp_path):
    # 3.x reads OpenAPI 3.1 only behind an experimental flag, and its checks and configuration differ.
    assert version("schemathesis").startswith("4."), "the contract test needs schemathesis 4.x (.ci/run pins it)"
    described = operations(portal)
    session = signed_in_session(portal)
    token = portal_token(portal.base_url)
    # The OAuth run goes first: the portal run may disable or delete any app it lists, this token's among them.
    access_token = oauth_token(portal, session)
    # And with an API key holding every scope (SPEC §7): the key's own route and every scoped one answer as documented.
    key = requests.post(portal.base_url + "/api/2.0/keys", headers={"Authorization": "Bearer " + token},
                        json={"name": "Contract", "permissions": ["*"]}).json()["response"]["key"]
    runs = [run_schemathesis(portal, access_token, seed(portal, session, token, "oauth"), "OAuth", tmp_path),
            run_schemathesis(portal, key, seed(portal, session, token, "key"), "API-key", tmp_path),
            run_schemathesis(portal, token, seed(portal, session, token, "portal"), "portal", tmp_path)]
    # schemathesis leaves out the document it was pointed at.
    called = set(described) - set(NOT_CALLED) - {"getOpenAPIDocument"}
    seen = {}
    for output, har in runs:
        assert operations_tested(output) == len(called), "schemathesis did not call every operation"
        for operation_id, codes in statuses(har, described).items():
            seen.setdefault(operation_id, set()).update(codes)
    assert called <= set(seen), "operations missing from schemathesis' report"
    unsuccessful = {o: sorted(seen[o]) for o in called - set(NEVER_SUCCEEDS) if not any(200 <= code < 300 for code in seen[o])}
    assert unsuccessful == {}, "operations that never succeeded, so their answers' shapes went unchecked"
