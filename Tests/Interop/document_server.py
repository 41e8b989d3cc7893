"""A local HTTPS server for Client ID Metadata Documents (SPEC §6), with a CA of its own made here, so
that Gatehouse fetches over real TLS and trusts it only through GATEHOUSE_OUTBOUND_CA_FILE."""
import datetime
import http.server
import ipaddress
import json
import os
import ssl
import tempfile
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _certificate(subject, issuer, public_key, signing_key, ca, names=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


class DocumentServer:
    """Serves `routes[path] = (status, headers, body bytes, delay seconds)` over HTTPS on 127.0.0.1 and
    counts the requests per path in `hits`."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="gatehouse-documents-")
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Gatehouse test CA")])
        ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), ca_name, key.public_key(), ca_key,
                            ca=False, names=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        self.ca_file = os.path.join(self.folder, "ca.pem")
        with open(self.ca_file, "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
        chain, key_file = os.path.join(self.folder, "leaf.pem"), os.path.join(self.folder, "leaf.key")
        with open(chain, "wb") as f:
            f.write(leaf.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.routes, self.hits = {}, {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                status, headers, body, delay = owner.routes.get(self.path, (404, {}, b"not here", 0))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key_file)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = f"https://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path, host="127.0.0.1"):
        return f"https://{host}:{self.port}{path}"

    def serve(self, path, document=None, status=200, headers=None, body=None, delay=0, max_age=300):
        """Serves `document` (a dict, its client_id defaulting to its own URL) or raw `body` at `path`."""
        if body is None:
            document = dict(document or {})
            document.setdefault("client_id", self.url(path))
            body = json.dumps(document).encode()
        all_headers = {"Content-Type": "application/json", "Cache-Control": f"max-age={max_age}"}
        all_headers.update(headers or {})
        self.routes[path] = (status, all_headers, body, delay)
        return self.url(path)

    def close(self):
        self.httpd.shutdown()
