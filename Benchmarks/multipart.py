"""What a multipart upload costs the server (docs/decisions/multipart-parser.md): a 20 MB file in one
part, and a form of many small parts, each sent by curl several times; the server's CPU time per
upload is read from /proc, so the figure does not depend on how fast the client is.
Run: swift build -c release --product gatehouse && python3 Benchmarks/multipart.py [rounds]
"""
import os
import subprocess
import sys
import tempfile
import time

from common import Gatehouse


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    server = Gatehouse({"GATEHOUSE_MAX_UPLOAD_BYTES": str(64 * 1024 * 1024)})
    try:
        token = server.portal_token()
        _, my = server.call("GET", "/api/2.0/files/@my", token=token)
        folder = my["response"]["current"]["id"]
        work = tempfile.mkdtemp(prefix="gatehouse-multipart-")
        big = os.path.join(work, "big.bin")
        with open(big, "wb") as out:
            out.write(os.urandom(20 * 1024 * 1024))
        # Many small parts: fields before the file, as a browser form with many inputs sends them.
        many = os.path.join(work, "many.body")
        boundary = "BenchBoundary7d3f"
        with open(many, "wb") as out:
            for index in range(5000):
                out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"f{index}\"\r\n\r\n{'x' * 100}\r\n".encode())
            out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"small.txt\"\r\n"
                      f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n".encode())

        def run(kind, index):
            if kind == "one part of 20 MB":
                command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:", "-H", "Authorization: Bearer " + token,
                           "-F", f"file=@{big};filename=big-{index}.bin", f"{server.base}/api/2.0/files/{folder}/upload"]
            else:
                command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:", "-H", "Authorization: Bearer " + token,
                           "-H", f"Content-Type: multipart/form-data; boundary={boundary}", "--data-binary", f"@{many}",
                           f"{server.base}/api/2.0/files/{folder}/upload"]
            before = cpu_seconds(server.process.pid)
            started = time.perf_counter()
            status = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            took = time.perf_counter() - started
            assert status == "201", status
            return took, cpu_seconds(server.process.pid) - before

        for kind in ["one part of 20 MB", "5,000 fields of 100 bytes and a file"]:
            results = [run(kind, index) for index in range(rounds)]
            walls = sorted(r[0] for r in results)
            cpus = sorted(r[1] for r in results)
            print(f"{kind:40s} wall median {walls[len(walls) // 2] * 1000:7.1f} ms  server CPU median {cpus[len(cpus) // 2] * 1000:7.1f} ms/upload")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
