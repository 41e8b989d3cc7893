"""Shared fixtures: a real Gatehouse server process and a real headless Chromium."""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "owner-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base_url: str, data_dir: str, pid: int = 0):
        self.base_url = base_url
        self.data_dir = data_dir
        self.pid = pid


@contextmanager
def running_gatehouse(prefix: str, **settings: str):
    """`gatehouse serve` on SQLite with a port and data folder of its own, the owner from OWNER_EMAIL and
    bcrypt at its cheapest, `settings` (GATEHOUSE_* variables) over those; stopped and removed after."""
    binary = os.environ.get("GATEHOUSE_BIN", str(ROOT / ".build" / "debug" / "gatehouse"))
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix=prefix)
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update({
        "GATEHOUSE_PORT": str(port),
        "GATEHOUSE_PUBLIC_URL": base_url,
        "GATEHOUSE_DATA_DIR": data_dir,
        "GATEHOUSE_ADMIN_EMAIL": OWNER_EMAIL,
        "GATEHOUSE_ADMIN_PASSWORD": OWNER_PASSWORD,
        "GATEHOUSE_BCRYPT_COST": "4",
        **settings,
    })
    env.pop("GATEHOUSE_DATABASE_URL", None)
    log = open(os.path.join(data_dir, "server.log"), "w")
    process = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base_url + "/health", timeout=1).read()
            break
        except Exception:
            if process.poll() is not None:
                raise RuntimeError("gatehouse exited: " + open(os.path.join(data_dir, "server.log")).read())
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("gatehouse did not start")
    try:
        yield Server(base_url, data_dir, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    # Tests pace nothing: the budgets are set far above what any test sends, on any machine.
    with running_gatehouse("gatehouse-interop-", GATEHOUSE_CLIENTS_PER_PERSON="1000", GATEHOUSE_CLIENTS_PER_PORTAL="2000",
                           GATEHOUSE_CLIENTS_API_POSTS_PER_MINUTE="1000",
                           GATEHOUSE_CLIENTS_API_CHANGES_PER_MINUTE="1000", GATEHOUSE_CLIENTS_API_READS_PER_MINUTE="100000") as running:
        yield running


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(os.environ.get("GATEHOUSE_SCREENSHOTS", str(ROOT / "screenshots")))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots go to {folder}")
    return folder


@pytest.fixture()
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def png(width: int, height: int) -> bytes:
    """A real PNG of the given size (RGB gradient)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 7 % 256, y * 5 % 256, 200)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
