"""Sign-ins per second per core at the default password work factor (issue 17, SPEC §8).

Keycloak 26 sizes password sign-ins at 15 per second per vCPU; Gatehouse's default (bcrypt 10) must
verify at least that many on one core. Starts a release build on SQLite with the default
GATEHOUSE_BCRYPT_COST, signs the owner in through `POST /api/2.0/authentication` from `threads`
clients for `seconds`, and reports sign-ins per second, the server's CPU per sign-in (from
/proc/<pid>/stat) and sign-ins per CPU-second — the per-core figure, whatever else runs.
Run: swift build -c release --product gatehouse && python3 Benchmarks/sign_in.py [seconds] [threads]
"""
import json
import os
import sys
import threading
import time
import urllib.request

from common import OWNER, Gatehouse, percentile


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    environment = {key: value for key, value in os.environ.items() if key != "GATEHOUSE_BCRYPT_COST"}
    os.environ.clear()
    os.environ.update(environment)
    server = Gatehouse()
    body = json.dumps({"userName": OWNER[0], "password": OWNER[1]}).encode()
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def sign_in() -> None:
        request = urllib.request.Request(server.base + "/api/2.0/authentication", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                ok = response.status == 200 and b'"token"' in response.read()
        except Exception:
            ok = False
        with lock:
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failures[0] += 1

    def client(deadline: float) -> None:
        while time.perf_counter() < deadline:
            sign_in()

    try:
        for _ in range(3):  # warm up: the first sign-in also makes the decoy hash
            sign_in()
        latencies.clear()
        cpu_before = cpu_seconds(server.process.pid)
        started = time.perf_counter()
        workers = [threading.Thread(target=client, args=(started + seconds,)) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(server.process.pid) - cpu_before
    finally:
        server.stop()
    count = len(latencies)
    per_core = count / cpu if cpu else float("nan")
    print(f"sign-in (bcrypt at the default work factor), {threads} clients, {elapsed:.1f} s: {count / elapsed:.1f}/s, "
          f"{failures[0]} failed, p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms")
    print(f"  server CPU {cpu * 1000 / max(count, 1):.1f} ms per sign-in → {per_core:.1f} sign-ins per second per core "
          f"(target ≥ 15, Keycloak 26's sizing per vCPU; ratio {per_core / 15:.2f})")


if __name__ == "__main__":
    main()
