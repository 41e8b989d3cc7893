"""The README's "Your first token in five minutes", run as written against the real binary: its shell
blocks in order in bash (the variables one block sets carried to the next), its authlib snippet in
Python; the two steps a person does in the browser (reading the printed password, clicking Allow)
done here. A change of the API that breaks the walk-through fails this test."""
import os
import re
import selectors
import shlex
import shutil
import subprocess
import tempfile
import time
import types

import requests

from conftest import ROOT, free_port
from oauth_helpers import follow_authorize, query_of
from test_console import wait_healthy

BINARY = os.environ.get("GATEHOUSE_BIN", str(ROOT / ".build" / "debug" / "gatehouse"))
README_ADDRESS = "http://127.0.0.1:8080"


def walk_through_blocks():
    text = (ROOT / "README.md").read_text()
    start = text.index("## Your first token in five minutes")
    end = text.index("\n## ", start + 3)
    return re.findall(r"```(sh|python)\n(.*?)```", text[start:end], re.S)


def assigned_names(block):
    return sorted(set(re.findall(r"^(?:export )?([A-Z_][A-Z0-9_]*)=", block, re.M)))


def run_shell(block, state):
    """Runs `block` in bash after the assignments of the blocks before it; answers its output and
    adds what it assigned to `state`."""
    names = assigned_names(block)
    prelude = "".join(f"{name}={shlex.quote(value)}\n" for name, value in state.items())
    report = "".join(f'printf "%s=%s\\0" {name} "${{{name}-}}"\n' for name in names)
    script = "set -euo pipefail\n" + prelude + block + "\nexec 1>&REPORT\n" + report
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(["bash", "-c", script.replace("exec 1>&REPORT", f"exec 1>&{write_fd}")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, pass_fds=(write_fd,), text=True)
    os.close(write_fd)
    out, err = process.communicate(timeout=60)
    with os.fdopen(read_fd, "rb") as reported:
        pairs = reported.read().split(b"\0")
    assert process.returncode == 0, f"README block failed ({process.returncode}):\n{block}\nstdout: {out}\nstderr: {err}"
    for pair in pairs:
        if pair:
            name, _, value = pair.decode().partition("=")
            state[name] = value
    return out


def click_allow(base, password, authorize_url):
    """What the person does in the browser: sign in as the owner and click Allow; answers where the
    browser is sent."""
    session = requests.Session()
    session.headers["Sec-Fetch-Site"] = "same-origin"
    page = session.get(base + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    signed_in = session.post(base + "/login", data={"csrf_token": token, "email": "admin@localhost", "password": password},
                             allow_redirects=False)
    assert signed_in.status_code == 303
    return follow_authorize(types.SimpleNamespace(base_url=base), session, authorize_url)


def test_the_readme_walk_through_gets_a_token_and_calls_the_api():
    blocks = walk_through_blocks()
    assert [kind for kind, _ in blocks].count("sh") == 5 and [kind for kind, _ in blocks].count("python") == 1
    data = tempfile.mkdtemp(prefix="gatehouse-readme-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, GATEHOUSE_PORT=str(port), GATEHOUSE_PUBLIC_URL=base, GATEHOUSE_DATA_DIR=data, GATEHOUSE_BCRYPT_COST="4")
    for name in ("GATEHOUSE_ADMIN_EMAIL", "GATEHOUSE_ADMIN_PASSWORD", "GATEHOUSE_DATABASE_URL", "GATEHOUSE_SECRET_KEY"):
        env.pop(name, None)
    server = subprocess.Popen([BINARY, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        selector = selectors.DefaultSelector()
        selector.register(server.stderr, selectors.EVENT_READ)
        seen, password, started = b"", None, time.monotonic()
        while password is None and time.monotonic() - started < 30:
            for key, _ in selector.select(timeout=0.2):
                seen += os.read(key.fileobj.fileno(), 65536)
            found = re.search(rb"admin@localhost with the password: (\S+)", seen)
            password = found.group(1).decode() if found else None
        assert password, seen
        assert wait_healthy(base)

        state = {}
        outputs = []
        for kind, block in blocks:
            block = block.replace(README_ADDRESS, base)
            if kind == "sh":
                block = block.replace("'<the password it printed>'", shlex.quote(password))
                if "'<the code from the address bar>'" in block:
                    sent_to = click_allow(base, password, state["AUTHORIZE_URL"])
                    assert sent_to.startswith("http://localhost:3000/callback?"), sent_to
                    back = query_of(sent_to)
                    assert back["state"] == "first-try" and back["iss"] == base
                    block = block.replace("'<the code from the address bar>'", shlex.quote(back["code"]))
                outputs.append(run_shell(block, state))
                continue
            # The authlib snippet: answer its prompt with where the browser was sent.
            snippet = subprocess.Popen(["python3", "-c", block], env=dict(os.environ, CLIENT_ID=state["CLIENT_ID"],
                                       CLIENT_SECRET=state["CLIENT_SECRET"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            line = snippet.stdout.readline()
            assert line.startswith("Open this, sign in, click Allow: "), line + snippet.stderr.read()
            sent_to = click_allow(base, password, line.split(": ", 1)[1].strip())
            out, err = snippet.communicate(sent_to + "\n", timeout=60)
            assert snippet.returncode == 0, err
            assert out.strip().endswith("My documents"), out
        assert state["CLIENT_ID"] and state["CLIENT_SECRET"] and state["ACCESS_TOKEN"].count(".") == 2
        answer = outputs[-1]
        assert '"statusCode":200' in answer.replace(" ", "") and '"current"' in answer, answer
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)
