"""Helpers for the fault tests: a TCP proxy that can cut a database away, and scratch PostgreSQL databases."""
import os
import secrets
import socket
import subprocess
import threading
import urllib.parse


class CuttableProxy:
    """Forwards 127.0.0.1:port to a target; `cut()` drops every connection and refuses new ones
    (the database has gone away), `restore()` lets them through again."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.connections = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            threading.Thread(target=self.pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.open = False
        with self.lock:
            for sock in self.connections:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
            self.connections = []

    def restore(self):
        self.open = True

    def close(self):
        self.cut()
        self.listener.close()


class ScratchPostgres:
    """A database of its own on the CI PostgreSQL (GATEHOUSE_TEST_DATABASE_URL), made with psql."""

    def __init__(self):
        self.admin = urllib.parse.urlsplit(os.environ["GATEHOUSE_TEST_DATABASE_URL"])
        self.psql = [os.environ["GATEHOUSE_TEST_PSQL"], "-h", self.admin.hostname, "-p", str(self.admin.port or 5432), "-U",
                     self.admin.username or "postgres", "-d", self.admin.path.lstrip("/") or "postgres", "-q", "-c"]
        self.name = "scratch_" + secrets.token_hex(6)
        subprocess.run(self.psql + [f"CREATE DATABASE {self.name}"], check=True)
        self.host = self.admin.hostname
        self.port = self.admin.port or 5432

    def url(self, host=None, port=None):
        user = self.admin.username or "postgres"
        return f"postgres://{user}@{host or self.host}:{port or self.port}/{self.name}"

    def query(self, sql):
        command = [self.psql[0], "-h", self.host, "-p", str(self.port), "-U", self.admin.username or "postgres", "-d", self.name,
                   "-q", "-t", "-A", "-c", sql]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()

    def drop(self):
        subprocess.run(self.psql + [f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"], check=False)
