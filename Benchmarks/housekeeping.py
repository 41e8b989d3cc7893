"""The longest pause housekeeping causes (issue 6): fills an SQLite portal with expired sessions,
codes, refresh tokens and revocation entries, runs `gatehouse sweep`, and prints what it deleted and
its longest batch (the longest time it held the write lock).
Run: swift build -c release --product gatehouse && python3 Benchmarks/housekeeping.py [rows per table]
"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

from common import ROOT


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    binary = os.environ.get("GATEHOUSE_BIN", str(ROOT / ".build" / "release" / "gatehouse"))
    data = tempfile.mkdtemp(prefix="gatehouse-sweep-")
    env = dict(os.environ, GATEHOUSE_DATA_DIR=data, GATEHOUSE_ADMIN_EMAIL="owner@example.com", GATEHOUSE_ADMIN_PASSWORD="owner-password-1",
               GATEHOUSE_BCRYPT_COST="4", GATEHOUSE_LOG_LEVEL="error")
    subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
    now = int(time.time())
    with sqlite3.connect(os.path.join(data, "gatehouse.sqlite")) as db:
        db.execute("INSERT INTO people (id, email, password_hash, first_name, last_name, role, created_at, updated_at) "
                   "VALUES ('p', 'p@example.com', 'x', '', '', 'user', 0, 0)")
        db.execute("INSERT INTO oauth_clients (client_id, name, description, website_url, logo_format, logo_version, logo_bytes, allow_pkce, "
                   "redirect_uris, allowed_origins, scopes, policy_url, terms_url, enabled, secret_hash, created_on, created_by, modified_on, "
                   "modified_by) VALUES ('c', 'n', '', 'https://a', 'png', 'v', x'00', 1, '[]', '[]', 'openid', 'https://a', 'https://a', 1, "
                   "'h', 0, 'p', 0, 'p')")
        db.execute("INSERT INTO grants (grant_id, client_id, person_id, scopes, auth_time, created_at) VALUES ('g', 'c', 'p', 'openid', 0, 0)")
        db.executemany("INSERT INTO sessions (token_hash, person_id, kind, authenticated_at, expires_at) VALUES (?, 'p', 'browser', 0, ?)",
                       ((f"s{i}", now - 10) for i in range(rows)))
        db.executemany("INSERT INTO authorization_codes (code_hash, grant_id, client_id, person_id, redirect_uri, redirect_uri_given, scopes, "
                       "auth_time, created_at, expires_at) VALUES (?, 'g', 'c', 'p', 'https://a/cb', 1, 'openid', 0, 0, ?)",
                       ((f"c{i}", now - 3600) for i in range(rows)))
        db.executemany("INSERT INTO refresh_tokens (token_hash, grant_id, client_id, person_id, scopes, auth_time, created_at, expires_at) "
                       "VALUES (?, 'g', 'c', 'p', 'openid', 0, 0, ?)", ((f"r{i}", now - 10) for i in range(rows)))
        db.executemany("INSERT INTO revocations (kind, value, created_at, expires_at) VALUES ('token', ?, 0, ?)",
                       ((f"v{i}", now - 10) for i in range(rows)))
    started = time.perf_counter()
    out = subprocess.run([binary, "sweep"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    print(f"housekeeping, {rows} expired rows in each of 4 tables, SQLite, batches of 100: {out} (whole sweep {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
