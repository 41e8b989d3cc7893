"""The console an operator meets: the owner's generated password reaches a pipe at once (not left in a
buffer until exit), and `gatehouse users set-password` recovers a lost one, refusing bad input with one
line and a non-zero status."""
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time

import requests

from conftest import ROOT, free_port

BINARY = os.environ.get("GATEHOUSE_BIN", str(ROOT / ".build" / "debug" / "gatehouse"))


def sign_in(base, email, password):
    return requests.post(base + "/api/2.0/authentication", json={"userName": email, "password": password}, timeout=10).status_code


def test_owner_password_reaches_a_pipe_at_once_and_set_password_recovers_it():
    data = tempfile.mkdtemp(prefix="gatehouse-console-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, GATEHOUSE_PORT=str(port), GATEHOUSE_PUBLIC_URL=base, GATEHOUSE_DATA_DIR=data, GATEHOUSE_BCRYPT_COST="4")
    for name in ("GATEHOUSE_ADMIN_EMAIL", "GATEHOUSE_ADMIN_PASSWORD", "GATEHOUSE_DATABASE_URL"):
        env.pop(name, None)
    started = time.monotonic()
    server = subprocess.Popen([BINARY, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Read both pipes as the bytes arrive; the process keeps running, so nothing is flushed by an exit.
        selector = selectors.DefaultSelector()
        selector.register(server.stdout, selectors.EVENT_READ)
        selector.register(server.stderr, selectors.EVENT_READ)
        seen = b""
        password = None
        while password is None and time.monotonic() - started < 20:
            for key, _ in selector.select(timeout=0.2):
                seen += os.read(key.fileobj.fileno(), 65536)
            found = re.search(rb"admin@localhost with the password: (\S+)", seen)
            if found:
                password = found.group(1).decode()
        took = time.monotonic() - started
        assert password, f"no password on the pipes while serving: {seen!r}"
        print(f"owner's password read from the pipe {took:.2f} s after start")
        assert took < 10
        for _ in range(100):
            try:
                if requests.get(base + "/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        assert sign_in(base, "admin@localhost", password) == 200

        def set_password(*args, stdin=""):
            return subprocess.run([BINARY, "users", "set-password", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)

        # Bad input: one line on stderr, a non-zero status, nothing changed.
        for args, stdin in [(["--email", "nobody@example.com"], "new-password-1\n"), (["--email", "admin@localhost"], ""),
                            (["--email", "admin@localhost", "--password", "short"], "")]:
            refused = set_password(*args, stdin=stdin)
            assert refused.returncode != 0, (args, refused)
            assert len(refused.stderr.strip().splitlines()) == 1 and refused.stderr.startswith("gatehouse: "), refused.stderr
        assert sign_in(base, "admin@localhost", password) == 200

        recovered = set_password("--email", "admin@localhost", stdin="new-password-1\n")
        assert recovered.returncode == 0, recovered.stderr
        assert sign_in(base, "admin@localhost", password) == 401
        assert sign_in(base, "admin@localhost", "new-password-1") == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


def test_a_port_in_use_is_one_line_and_nothing_is_created():
    import socket
    data = tempfile.mkdtemp(prefix="gatehouse-busy-")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = dict(os.environ, GATEHOUSE_PORT=str(port), GATEHOUSE_DATA_DIR=data, GATEHOUSE_BCRYPT_COST="4")
        for name in ("GATEHOUSE_ADMIN_EMAIL", "GATEHOUSE_ADMIN_PASSWORD", "GATEHOUSE_DATABASE_URL"):
            env.pop(name, None)
        started = subprocess.run([BINARY, "serve"], env=env, capture_output=True, text=True, timeout=60)
        assert started.returncode != 0
        lines = started.stderr.strip().splitlines()
        assert len(lines) == 1 and "GATEHOUSE_PORT" in lines[0] and "in use" in lines[0], started.stderr
        assert "password" not in started.stdout + started.stderr
        assert os.listdir(data) == [], "a refused start created " + str(os.listdir(data))
        # An address this machine does not have names GATEHOUSE_HOST.
        foreign = subprocess.run([BINARY, "serve"], env=dict(env, GATEHOUSE_HOST="192.0.2.1", GATEHOUSE_PORT=str(free_port())),
                                 capture_output=True, text=True, timeout=60)
        assert foreign.returncode != 0 and "GATEHOUSE_HOST" in foreign.stderr, foreign.stderr
        assert os.listdir(data) == []
    shutil.rmtree(data, ignore_errors=True)
