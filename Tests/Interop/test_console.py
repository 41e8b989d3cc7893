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


def wait_healthy(base, attempts=200):
    """Waits until `base` answers /health; answers whether it did."""
    for _ in range(attempts):
        try:
            if requests.get(base + "/health", timeout=1).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


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
        assert took < 1.0, "SPEC §8: the password reaches the console at once"
        wait_healthy(base)
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
        assert "Created the portal owner" not in started.stdout + started.stderr
        assert os.listdir(data) == [], "a refused start created " + str(os.listdir(data))
        # An address this machine does not have names GATEHOUSE_HOST.
        foreign = subprocess.run([BINARY, "serve"], env=dict(env, GATEHOUSE_HOST="192.0.2.1", GATEHOUSE_PORT=str(free_port())),
                                 capture_output=True, text=True, timeout=60)
        assert foreign.returncode != 0 and "GATEHOUSE_HOST" in foreign.stderr, foreign.stderr
        assert os.listdir(data) == []
    shutil.rmtree(data, ignore_errors=True)


def clean_env(data, port, **extra):
    env = dict(os.environ, GATEHOUSE_PORT=str(port), GATEHOUSE_DATA_DIR=data, GATEHOUSE_BCRYPT_COST="4", **extra)
    for name in ("GATEHOUSE_ADMIN_EMAIL", "GATEHOUSE_ADMIN_PASSWORD", "GATEHOUSE_DATABASE_URL", "GATEHOUSE_SECRET_KEY"):
        if name not in extra:
            env.pop(name, None)
    return env


def refused_start(env):
    """Starts `serve`, which must refuse: answers its one line of standard error."""
    started = subprocess.run([BINARY, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0, started
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gatehouse: "), started.stderr
    assert started.stdout == "", started.stdout
    return lines[0]


def snapshot(folder):
    """Every file under `folder` with its bytes."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, folder)] = handle.read()
    return found


def test_a_database_that_cannot_be_reached_is_one_line_and_nothing_is_created():
    data = tempfile.mkdtemp(prefix="gatehouse-nodb-")
    try:
        line = refused_start(clean_env(data, free_port(), GATEHOUSE_DATABASE_URL="postgres://nobody@127.0.0.1:1/none"))
        assert "GATEHOUSE_DATABASE_URL" in line and "connection refused" in line, line
        assert os.listdir(data) == [], "a refused start created " + str(os.listdir(data))
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_a_data_folder_that_cannot_be_written_is_one_line_and_nothing_is_created():
    parent = tempfile.mkdtemp(prefix="gatehouse-nowrite-")
    try:
        # A file where a folder should be: unwritable for every user, root included.
        with open(os.path.join(parent, "file"), "w") as handle:
            handle.write("not a folder")
        line = refused_start(clean_env(os.path.join(parent, "file", "data"), free_port()))
        assert "GATEHOUSE_DATA_DIR" in line and "not a folder" in line, line
        assert sorted(os.listdir(parent)) == ["file"]
        if os.geteuid() != 0:  # mode bits stop every user but root
            locked = os.path.join(parent, "locked")
            os.mkdir(locked, 0o555)
            line = refused_start(clean_env(locked, free_port()))
            assert "GATEHOUSE_DATA_DIR" in line and "cannot write" in line, line
            assert os.listdir(locked) == []
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_a_secret_key_that_does_not_open_the_stored_keys_is_one_line_and_changes_nothing():
    data = tempfile.mkdtemp(prefix="gatehouse-key-")
    port = free_port()
    try:
        first = clean_env(data, port, GATEHOUSE_SECRET_KEY="a" * 40)
        server = serve_until_healthy(first, port)
        assert requests.get(f"http://127.0.0.1:{port}/oauth2/jwks", timeout=5).ok
        stop(server)
        before = snapshot(data)
        assert "gatehouse.sqlite" in before and "secret.key" not in before
        # Another key given, and no key at all (a key file would be made): both refused, nothing written.
        for env in (clean_env(data, port, GATEHOUSE_SECRET_KEY="b" * 40), clean_env(data, port)):
            line = refused_start(env)
            assert "GATEHOUSE_SECRET_KEY" in line and "same" in line, line
            assert snapshot(data) == before
        # The right key still serves.
        stop(serve_until_healthy(first, port))
    finally:
        shutil.rmtree(data, ignore_errors=True)


def serve_until_healthy(env, port):
    server = subprocess.Popen([BINARY, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if wait_healthy(f"http://127.0.0.1:{port}"):
        return server
    server.kill()
    raise AssertionError("serve did not start: " + server.stderr.read().decode())


def stop(server):
    server.terminate()
    assert server.wait(timeout=20) == 0


def test_keys_reseal_changes_the_secret_key_and_a_wrong_old_key_changes_nothing():
    data = tempfile.mkdtemp(prefix="gatehouse-reseal-")
    port = free_port()
    try:
        old, new = "o" * 40, "n" * 40
        server = serve_until_healthy(clean_env(data, port, GATEHOUSE_SECRET_KEY=old), port)
        kids = sorted(key["kid"] for key in requests.get(f"http://127.0.0.1:{port}/oauth2/jwks", timeout=5).json()["keys"])
        stop(server)
        before = snapshot(data)

        def keys(*args, **extra):
            return subprocess.run([BINARY, "keys", *args], env=clean_env(data, port, **extra), capture_output=True, text=True, timeout=60)

        # Refused, nothing changed: rotate with a key that does not open the stored keys; reseal with a
        # wrong old key; reseal without one.
        for done in (keys("rotate", GATEHOUSE_SECRET_KEY=new), keys("reseal", GATEHOUSE_SECRET_KEY=new, GATEHOUSE_OLD_SECRET_KEY="w" * 40),
                     keys("reseal", GATEHOUSE_SECRET_KEY=new)):
            assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done
            assert "GATEHOUSE_SECRET_KEY" in done.stderr or "GATEHOUSE_OLD_SECRET_KEY" in done.stderr, done.stderr
            assert snapshot(data) == before
        resealed = keys("reseal", GATEHOUSE_SECRET_KEY=new, GATEHOUSE_OLD_SECRET_KEY=old)
        assert resealed.returncode == 0 and "Sealed 2 signing key(s)" in resealed.stdout, resealed
        refused = refused_start(clean_env(data, port, GATEHOUSE_SECRET_KEY=old))
        assert "GATEHOUSE_SECRET_KEY" in refused and "keys reseal" in refused, refused
        server = serve_until_healthy(clean_env(data, port, GATEHOUSE_SECRET_KEY=new), port)
        assert sorted(key["kid"] for key in requests.get(f"http://127.0.0.1:{port}/oauth2/jwks", timeout=5).json()["keys"]) == kids
        stop(server)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_first_starts_at_once_with_different_keys_make_one_set_of_keys_and_the_others_refuse():
    import sqlite3
    root = tempfile.mkdtemp(prefix="gatehouse-race-")
    try:
        database = os.path.join(root, "shared.sqlite")
        ports = [free_port() for _ in range(3)]
        # The same database, each process with a data folder (and so a secret.key) of its own: the
        # operator forgot GATEHOUSE_SECRET_KEY.
        processes = [subprocess.Popen([BINARY, "serve"], env=clean_env(os.path.join(root, f"p{index}"), port,
                                                                       GATEHOUSE_DATABASE_URL="sqlite://" + database),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                     for index, port in enumerate(ports)]
        # Wait for the two that must refuse (a slow machine may take a while), then for the one that serves.
        deadline = time.monotonic() + 60
        while sum(process.poll() is not None for process in processes) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        serving = [process for process in processes if process.poll() is None]
        for process, port in zip(processes, ports):
            if process in serving:
                assert wait_healthy(f"http://127.0.0.1:{port}"), "the process that made the keys does not serve"
        refused = [process for process in processes if process.poll() is not None]
        assert len(serving) == 1, "\n".join(f"{process.returncode}: {process.stderr.read()[-600:]}" for process in refused)
        for process in refused:
            lines = process.stderr.read().strip().splitlines()
            assert process.returncode == 1 and len(lines) == 1 and "GATEHOUSE_SECRET_KEY" in lines[0], lines
        for process in serving:
            stop(process)
        with sqlite3.connect(database) as db:
            active = db.execute("SELECT alg, count(*) FROM signing_keys WHERE retired_at IS NULL GROUP BY alg ORDER BY alg").fetchall()
        assert active == [("ES256", 1), ("RS256", 1)], active
        made = [index for index in range(3) if os.path.exists(os.path.join(root, f"p{index}", "secret.key"))]
        assert len(made) == 1, f"only the process that serves keeps a secret.key: {made}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_bad_owner_settings_and_an_unwritable_database_file_are_one_line_and_change_nothing():
    data = tempfile.mkdtemp(prefix="gatehouse-owner-")
    try:
        for extra, variable in (({"GATEHOUSE_ADMIN_PASSWORD": "short"}, "GATEHOUSE_ADMIN_PASSWORD"),
                                ({"GATEHOUSE_ADMIN_EMAIL": "not-an-email"}, "GATEHOUSE_ADMIN_EMAIL")):
            line = refused_start(clean_env(data, free_port(), **extra))
            assert line.startswith("gatehouse: " + variable), line
            assert os.listdir(data) == []
        port = free_port()
        stop(serve_until_healthy(clean_env(data, port, GATEHOUSE_SECRET_KEY="k" * 40), port))
        file = os.path.join(data, "gatehouse.sqlite")
        locked = False
        if os.geteuid() != 0:
            os.chmod(file, 0o444)
            locked = True
        else:  # root writes any file whose mode forbids it: an immutable one it cannot
            locked = subprocess.run(["chattr", "+i", file], capture_output=True).returncode == 0
        if locked:
            try:
                before = snapshot(data)
                line = refused_start(clean_env(data, port, GATEHOUSE_SECRET_KEY="k" * 40))
                assert "GATEHOUSE_DATA_DIR" in line and "cannot write" in line, line
                assert snapshot(data) == before
            finally:
                subprocess.run(["chattr", "-i", file], capture_output=True)
                os.chmod(file, 0o644)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_administration_commands_in_a_folder_without_a_portal_make_none():
    folder = tempfile.mkdtemp(prefix="gatehouse-nowhere-")
    try:
        env = clean_env(os.path.join(folder, "data"), free_port())
        for args, stdin in ((["users", "set-password", "--email", "admin@localhost"], "new-password-1\n"),
                            (["users", "add", "--email", "ann@example.com", "--password", "ann-password-1"], ""),
                            (["keys", "rotate"], ""), (["sweep"], "")):
            done = subprocess.run([BINARY, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 1 and len(lines) == 1 and "GATEHOUSE_DATA_DIR" in lines[0] and "no Gatehouse database" in lines[0], done
            assert os.listdir(folder) == [], os.listdir(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
