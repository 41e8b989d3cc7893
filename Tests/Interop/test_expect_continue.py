"""`Expect: 100-continue` (RFC 9110 §10.1.1) on a raw socket, as curl sends it for uploads: the
server answers `100 Continue` when the upload route starts reading, and a request it refuses before
that gets its final answer at once, without the client having to send the content."""
import os
import socket
import urllib.parse

import requests

from conftest import OWNER_EMAIL, OWNER_PASSWORD

BOUNDARY = "gatehouse-expect-boundary"


def portal_token(server):
    answer = requests.post(server.base_url + "/api/2.0/authentication", json={"userName": OWNER_EMAIL, "password": OWNER_PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()["response"]["token"]


def my_documents(server, token):
    answer = requests.get(server.base_url + "/api/2.0/files/@my", headers={"Authorization": "Bearer " + token})
    return answer.json()["response"]


def multipart(name, content):
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def send_head(server, path, token, length):
    host, port = urllib.parse.urlsplit(server.base_url).netloc.split(":")
    connection = socket.create_connection((host, int(port)), timeout=5)
    connection.sendall((f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n"
                        "Expect: 100-continue\r\n\r\n").encode())
    return connection


def read_head(connection):
    """The status line and headers of the next response; the body is left unread."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, "connection closed before a response: " + data.decode(errors="replace")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode(), rest


def test_upload_gets_100_continue_before_sending_content(server):
    token = portal_token(server)
    folder = my_documents(server, token)["current"]["id"]
    content = os.urandom(200_000)
    body = multipart("expect.bin", content)
    connection = send_head(server, f"/api/2.0/files/{folder}/upload", token, len(body))
    with connection:
        connection.settimeout(3)  # curl would wait one second, then send the content anyway
        interim, rest = read_head(connection)
        assert interim.startswith("HTTP/1.1 100 Continue"), interim
        assert rest == b""
        connection.sendall(body)
        final, _ = read_head(connection)
        assert final.startswith("HTTP/1.1 201"), final
    titles = [f["title"] for f in my_documents(server, token)["files"]]
    assert "expect.bin" in titles


def test_refused_upload_is_answered_without_100_continue_and_writes_nothing(server):
    token = portal_token(server)
    before = my_documents(server, token)
    folder = before["current"]["id"]
    # Over the 25 MB limit by its Content-Length: refused before any content is read.
    connection = send_head(server, f"/api/2.0/files/{folder}/upload", token, 30 * 1024 * 1024)
    with connection:
        connection.settimeout(3)
        final, _ = read_head(connection)
        assert final.startswith("HTTP/1.1 413"), final
    # A bad token: 401 at once, the content never asked for.
    connection = send_head(server, f"/api/2.0/files/{folder}/upload", "not-a-token", 1000)
    with connection:
        connection.settimeout(3)
        final, _ = read_head(connection)
        assert final.startswith("HTTP/1.1 401"), final
        assert "WWW-Authenticate" in final or "www-authenticate" in final.lower()
    after = my_documents(server, token)
    assert after["total"] == before["total"]
