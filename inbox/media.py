"""Copy platform media to Parley's storage, safely: platform URLs expire, and a URL in a payload
must never make Parley fetch from its own network (private, loopback or link-local addresses,
also in their IPv6 forms). The name is resolved once and the connection goes to the address
that was checked, so a name that resolves differently the second time (DNS rebinding) cannot
point the fetch inside."""

from __future__ import annotations

import ipaddress
import logging
import mimetypes
import socket
from collections.abc import Collection
from typing import Any
from urllib.parse import ParseResult, urlparse

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response

from connectors.base import DeliveryError, MediaReader
from connectors.registry import get_connector
from inbox.models import Attachment

log = logging.getLogger(__name__)

ALLOWED_CONTENT_PREFIXES = ("image/", "video/", "audio/", "application/", "text/plain")


class MediaRefused(Exception):
    pass


# IPv6 forms that carry an IPv4 address: a private IPv4 address inside one is still private
# (a NAT64 gateway or a 6to4 relay would forward to it).
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215): translated by the operator's own gateway, never public.
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64_WELL_KNOWN or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: Address) -> bool:
    """Whether Parley may fetch from ``address``: globally routable, not multicast, and not a
    private IPv4 address in IPv6 clothing (IPv4-mapped, NAT64, 6to4, Teredo, IPv4-compatible)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL_USE:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not address.is_multicast


def checked_address(host: str, port: int, allowed_hosts: Collection[str] | None = None) -> str:
    """Resolve ``host`` once and return the address to connect to; refused when any of its
    addresses is not public, unless the host is allow-listed (tests, a private media proxy):
    ``allowed_hosts``, by default ``MEDIA_FETCH_ALLOWED_HOSTS`` (outbound webhooks pass their
    own list)."""
    if allowed_hosts is None:
        allowed_hosts = settings.MEDIA_FETCH_ALLOWED_HOSTS
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise MediaRefused(f"host does not resolve: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if host not in allowed_hosts and not all(is_public_address(address) for address in addresses):
        raise MediaRefused(f"{host} resolves to a non-public address")
    return str(addresses[0])


def http_url_parts(url: str) -> ParseResult:
    """``url`` parsed, refused unless it is an http(s) URL with a host."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise MediaRefused("not an http(s) URL")
    return parsed


class PinnedAddressAdapter(HTTPAdapter):
    """Connects to the address that was checked, not to whatever the name resolves to a moment
    later (DNS rebinding). TLS still verifies the certificate for the host name (SNI and
    hostname check), and the Host header is the URL's."""

    def __init__(self, allowed_hosts: Collection[str] | None = None, **kwargs: Any) -> None:
        self.allowed_hosts = allowed_hosts
        super().__init__(**kwargs)

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        parsed = http_url_parts(request.url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        request.pinned_address = checked_address(  # type: ignore[attr-defined]
            parsed.hostname, port, self.allowed_hosts
        )
        request.headers["Host"] = parsed.netloc.rsplit("@", 1)[-1]
        return super().send(request, *args, **kwargs)

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        hostname = host_params["host"]
        host_params["host"] = request.pinned_address  # type: ignore[attr-defined]
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = hostname
            pool_kwargs["assert_hostname"] = hostname
        return host_params, pool_kwargs


def pinned_session(
    session: requests.Session | None = None, *, allowed_hosts: Collection[str] | None = None
) -> requests.Session:
    """``session`` (or a new one) fetching only from checked addresses, with no proxy from the
    environment (a proxy would resolve the name again)."""
    session = session or requests.Session()
    session.trust_env = False
    adapter = PinnedAddressAdapter(allowed_hosts)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def download(
    url: str, *, max_bytes: int | None = None, session: requests.Session | None = None
) -> tuple[bytes, str]:
    """Fetch ``url`` within the size cap; returns (content, content type). No redirects are
    followed blindly: each hop is checked like the first."""
    max_bytes = max_bytes or settings.MEDIA_MAX_BYTES
    http = pinned_session(session)
    for _hop in range(4):
        http_url_parts(url)  # a clear refusal rather than requests' "no connection adapters"
        response = http.get(
            url, stream=True, timeout=settings.PLATFORM_HTTP_TIMEOUT, allow_redirects=False
        )
        if response.is_redirect:
            url = requests.compat.urljoin(url, response.headers["Location"])
            response.close()
            continue
        break
    else:
        raise MediaRefused("too many redirects")
    with response:
        if response.status_code != 200:
            raise MediaRefused(f"HTTP {response.status_code}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not content_type.startswith(ALLOWED_CONTENT_PREFIXES):
            raise MediaRefused(f"content type {content_type or 'missing'} is not media")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise MediaRefused(f"{declared} bytes is over the {max_bytes}-byte limit")
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise MediaRefused(f"over the {max_bytes}-byte limit")
            chunks.append(chunk)
    return b"".join(chunks), content_type


# Raster images a browser shows and never runs, by their first bytes: what a file claims to be
# (its Content-Type) is the sender's word. SVG, HTML and XML can carry script; they are not here.
RASTER_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def raster_image_type(content: bytes) -> str | None:
    """The content type of a PNG, JPEG, GIF or WebP image, or None for anything else."""
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    for signature, content_type in RASTER_SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None


def store_attachment_media(attachment_id: int, *, session: requests.Session | None = None) -> bool:
    """Download one attachment's media into storage; failures are recorded on the row."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or attachment.file or not attachment.url or not attachment.store_media:
        return False
    if session is None:
        session = _platform_session(attachment)
    try:
        content, content_type = download(attachment.url, session=session)
    except (MediaRefused, requests.RequestException) as exc:
        Attachment.objects.filter(pk=attachment_id).update(fetch_error=str(exc)[:300])
        log.warning("media of attachment %s not stored: %s", attachment_id, exc)
        return False
    extension = mimetypes.guess_extension(content_type) or ""
    name = attachment.name or f"{attachment.kind}-{attachment.pk}{extension}"
    attachment.file.save(name, ContentFile(content), save=False)
    attachment.content_type = attachment.content_type or content_type
    attachment.size = len(content)
    attachment.fetch_error = ""
    attachment.save(update_fields=["file", "content_type", "size", "fetch_error"])
    return True


def upload_reader(url: str, stored: Attachment | None = None) -> MediaReader:
    """What a connector that takes media by upload (X) reads: an agent's file from Parley's
    storage (no HTTP round trip to ourselves), any other URL within the media safety limits."""

    def read(max_bytes: int) -> tuple[bytes, str]:
        if stored is not None and stored.file:
            if stored.file.size > max_bytes:
                raise DeliveryError(
                    f"{stored.name or 'The attachment'} is over the platform's "
                    f"{max_bytes // (1024 * 1024)} MB limit.",
                    permanent=True,
                )
            with stored.file.open("rb") as handle:
                content = handle.read()
            content_type = stored.content_type or mimetypes.guess_type(stored.name)[0] or ""
            return content, content_type or "application/octet-stream"
        try:
            return download(url, max_bytes=max_bytes)
        except (MediaRefused, requests.RequestException) as exc:
            raise DeliveryError(f"The attachment could not be read: {exc}", permanent=True)

    return read


def _platform_session(attachment: Attachment) -> requests.Session | None:
    """The connector's credentialed session for platforms whose media needs one (X)."""
    account = attachment.message.account
    return get_connector(account.platform).media_session(account)
