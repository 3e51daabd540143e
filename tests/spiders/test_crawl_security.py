"""Crawling is secure by default: a certificate that does not verify is an error, not a page."""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.helpers import P1, crawl, site_pages


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_a_self_signed_certificate_is_refused(tmp_path, db_url, capfd):
    cert_file, key_file = _self_signed(tmp_path)
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            body = site_pages("https://127.0.0.1")[P1]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, out = crawl(db_url, f"https://127.0.0.1:{server.server_address[1]}{P1}", capfd=capfd)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 1
    assert "could not fetch" in out
    assert P1 not in served  # the page was never requested over the untrusted connection


def test_a_crawl_runs_no_remote_control_or_telnet_console():
    # Scrapy 2.19 starts an HTTP server that runs posted Python code unless told not to.
    probe = """
from scrapy.crawler import Crawler
from scrapy.utils.reactor import install_reactor
from spiders.sources.blog.spider import BlogSpider
from spiders.run import crawl_settings
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
crawler = Crawler(BlogSpider, crawl_settings("sqlite://", 1.0, 1, False, False, 2.0))
crawler._apply_settings()
print(*(type(m).__name__ for m in crawler.extensions.middlewares))
"""
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    extensions = found.stdout.split()
    assert "CoreStats" in extensions and "AutoThrottle" in extensions
    assert "RemoteControl" not in extensions and "TelnetConsole" not in extensions
