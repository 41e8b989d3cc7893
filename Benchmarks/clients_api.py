"""Median latency of registering an app and of listing apps with 100 registered (issue 3).

Sequential requests on loopback against a release build on SQLite; reports median and p99 in ms.
Run: swift build -c release --product gatehouse && python3 Benchmarks/clients_api.py
"""
import base64
import statistics
import struct
import sys
import time
import zlib

from common import Gatehouse, percentile


def png32() -> str:
    rows = b"".join(b"\x00" + b"\x80" * 32 for _ in range(32))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    image = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 0, 0, 0, 0))
    image += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(image).decode()


def main() -> None:
    apps = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    server = Gatehouse({"GATEHOUSE_CLIENTS_PER_PERSON": "100000", "GATEHOUSE_CLIENTS_PER_PORTAL": "100000"})
    try:
        token = server.portal_token()
        body = {
            "name": "Bench App", "description": "benchmark", "logo": png32(), "website_url": "https://bench.example.com",
            "allow_pkce": True, "redirect_uris": ["https://bench.example.com/cb"],
            "allowed_origins": ["https://bench.example.com"], "scopes": ["files:write", "openid"],
            "policy_url": "https://bench.example.com/p", "terms_url": "https://bench.example.com/t",
        }
        for _ in range(10):  # warm up
            server.call("GET", "/api/2.0/scopes")
        creates = []
        for _ in range(apps):
            start = time.perf_counter()
            status, _ = server.call("POST", "/api/2.0/clients", body, token)
            creates.append((time.perf_counter() - start) * 1000)
            assert status == 201
        lists = []
        for _ in range(200):
            start = time.perf_counter()
            status, page = server.call("GET", "/api/2.0/clients?limit=50", token=token)
            lists.append((time.perf_counter() - start) * 1000)
            assert status == 200 and len(page["data"]) == 50
        walks = []
        for _ in range(100):
            start = time.perf_counter()
            path, seen = "/api/2.0/clients?limit=50", 0
            while True:
                _, page = server.call("GET", path, token=token)
                seen += len(page["data"])
                if not page["last_client_id"]:
                    break
                path = f"/api/2.0/clients?limit=50&last_client_id={page['last_client_id']}&last_created_on={page['last_created_on']}"
            walks.append((time.perf_counter() - start) * 1000)
            assert seen == apps
        print(f"create app:                    median {statistics.median(creates):.2f} ms, p99 {percentile(creates, .99):.2f} ms ({apps} apps)")
        print(f"list, first page of 50:        median {statistics.median(lists):.2f} ms, p99 {percentile(lists, .99):.2f} ms ({apps} apps stored)")
        print(f"list all {apps} (pages of 50):   median {statistics.median(walks):.2f} ms, p99 {percentile(walks, .99):.2f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
