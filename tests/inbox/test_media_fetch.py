"""Media fetches never reach Parley's own network: the address that was checked is the address
connected to (DNS rebinding), and private IPv4 addresses are refused in their IPv6 forms too."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inbox import media


class MediaServer:
    """A real HTTP server on one loopback address, recording the Host header of each request."""

    def __init__(self, address: str, port: int, body: bytes) -> None:
        self.hosts: list[str] = []
        recorded = self.hosts

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                recorded.append(self.headers["Host"])
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((address, port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def checked_and_private() -> Iterator[tuple[MediaServer, MediaServer]]:
    """A server on 127.0.0.1 (the address the tests' allow-list admits) and one on 127.0.0.2
    (private, not allowed: stands for the inside of the network), on the same port."""
    checked = MediaServer("127.0.0.1", 0, b"\x89PNG\r\n\x1a\nthe checked address")
    private = MediaServer("127.0.0.2", checked.port, b"\x89PNG\r\n\x1a\nSECRET")
    yield checked, private
    checked.stop()
    private.stop()


def rebinding_resolver(monkeypatch, name: str, first: str, then: str) -> list[str]:
    """``name`` resolves to ``first`` once, then to ``then``: a rebinding attacker's DNS."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != name:
            return real(host, port, *args, **kwargs)
        address = first if not answers else then
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_name_rebound_to_a_private_address_is_not_fetched_from_it(
    monkeypatch, settings, checked_and_private
):
    _, private = checked_and_private
    settings.MEDIA_FETCH_ALLOWED_HOSTS = []
    settings.PLATFORM_HTTP_TIMEOUT = (1.0, 1.0)
    # Public when checked, the private server when requests would resolve it again.
    rebinding_resolver(monkeypatch, "cdn.rebind.example", "93.184.215.14", "127.0.0.2")

    with pytest.raises((media.MediaRefused, requests.RequestException)):
        media.download(f"http://cdn.rebind.example:{private.port}/avatar.png")

    assert private.hosts == []


def test_the_connection_goes_to_the_checked_address_with_the_url_host_header(
    monkeypatch, settings, checked_and_private
):
    checked, private = checked_and_private
    settings.MEDIA_FETCH_ALLOWED_HOSTS = ["media.allowed.test"]
    answers = rebinding_resolver(monkeypatch, "media.allowed.test", "127.0.0.1", "127.0.0.2")
    content = media.download(f"http://media.allowed.test:{checked.port}/avatar.png")

    assert content == (b"\x89PNG\r\n\x1a\nthe checked address", "image/png")
    assert checked.hosts == [f"media.allowed.test:{checked.port}"]
    assert private.hosts == [] and answers == ["127.0.0.1"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::127.0.0.1",  # IPv4-compatible (deprecated, still parsed)
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64: the operator's own gateway
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    ],
)
def test_private_addresses_are_refused_in_every_form(address):
    assert media.is_public_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700::6810:84e5", "64:ff9b::5db8:d70e", "2002:5db8:d70e::1"]
)
def test_public_addresses_are_allowed(address):
    assert media.is_public_address(ipaddress.ip_address(address)) is True


def test_a_host_resolving_to_a_nat64_form_of_loopback_is_refused(monkeypatch, settings):
    settings.MEDIA_FETCH_ALLOWED_HOSTS = []

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::7f00:1", port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(media.MediaRefused, match="non-public"):
        media.download("https://cdn.nat64.example/a.png")


def certificate_for(name: str, directory) -> tuple[str, str, str]:
    """A CA, and a certificate it signed for ``name``: (CA file, certificate file, key file)."""

    def pem(path, data: bytes) -> str:
        (directory / path).write_bytes(data)
        return str(directory / path)

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return (
        pem("ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
        pem("cert.pem", cert.public_bytes(serialization.Encoding.PEM)),
        pem(
            "key.pem",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        ),
    )


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS media server on 127.0.0.1 whose certificate names ``media.allowed.test``; it
    records the server name (SNI) each client asked for."""
    ca_file, cert_file, key_file = certificate_for("media.allowed.test", tmp_path)
    server = MediaServer("127.0.0.1", 0, b"\x89PNG\r\n\x1a\nover TLS")
    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda _socket, name, _context: server_names.append(name)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    yield server, ca_file, server_names
    server.stop()


def test_a_pinned_https_fetch_verifies_the_certificate_for_the_host_name(
    monkeypatch, settings, https_server
):
    server, ca_file, server_names = https_server
    settings.MEDIA_FETCH_ALLOWED_HOSTS = ["media.allowed.test", "wrong.allowed.test"]
    rebinding_resolver(monkeypatch, "media.allowed.test", "127.0.0.1", "127.0.0.1")
    session = requests.Session()
    session.verify = ca_file

    content = media.download(f"https://media.allowed.test:{server.port}/a.png", session=session)

    assert content == (b"\x89PNG\r\n\x1a\nover TLS", "image/png")
    assert server_names == ["media.allowed.test"]
    assert server.hosts == [f"media.allowed.test:{server.port}"]

    # Another name pinned to the same address: the certificate does not name it, so no fetch.
    rebinding_resolver(monkeypatch, "wrong.allowed.test", "127.0.0.1", "127.0.0.1")
    with pytest.raises(requests.exceptions.SSLError):
        media.download(f"https://wrong.allowed.test:{server.port}/a.png", session=session)
    assert len(server.hosts) == 1


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:image/svg+xml,<svg/>", "file:///etc/passwd", "http:///x"]
)
def test_only_http_urls_with_a_host_are_fetched(url):
    with pytest.raises(media.MediaRefused, match="not an http"):
        media.download(url)
