"""Issue 19 (in part): a connection that completes nothing for GATEHOUSE_IDLE_TIMEOUT seconds is closed —
a connect-only socket, a request head that stalls half-way or trickles in a byte at a time, and an idle
keep-alive after an answer — while a request that arrives whole is served."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from conftest import free_port
from test_console import BINARY, clean_env, stop, wait_healthy


def closed_within(connection, seconds):
    """Answers how long the server took to close `connection` (reading until EOF), or None."""
    connection.settimeout(seconds)
    started = time.monotonic()
    try:
        while connection.recv(65536):
            pass
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_connections_that_send_nothing_are_closed_after_the_idle_timeout():
    data = tempfile.mkdtemp(prefix="gatehouse-idle-")
    port = free_port()
    server = subprocess.Popen([BINARY, "serve"], env=clean_env(data, port, GATEHOUSE_IDLE_TIMEOUT="2"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}")
        silent = socket.create_connection(("127.0.0.1", port))
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # the head never ends
        kept = socket.create_connection(("127.0.0.1", port))
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = kept.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        for name, connection in (("connect-only", silent), ("stalled head", half), ("idle keep-alive", kept)):
            took = closed_within(connection, 8)
            assert took is not None, f"{name}: still open 8 s after a 2 s idle timeout"
            print(f"{name}: closed by the server")
            connection.close()
        # A head sent a byte at a time (slowloris) must still arrive within the timeout: the timer
        # runs from the last complete part (head or body chunk), not from the last byte.
        trickle = socket.create_connection(("127.0.0.1", port))
        refused = False
        for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 40:
            try:
                trickle.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                refused = True
                break
            time.sleep(0.1)
        assert refused or closed_within(trickle, 8) is not None, "a head trickled over 5 s was still being read"
        trickle.close()
        # A request that arrives whole is served as ever.
        fresh = socket.create_connection(("127.0.0.1", port))
        fresh.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        fresh.settimeout(5)
        assert fresh.recv(65536).startswith(b"HTTP/1.1 200")
        fresh.close()
    finally:
        stop(server)
        shutil.rmtree(data, ignore_errors=True)
