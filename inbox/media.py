"""Copy platform media to Parley's storage, safely: platform URLs expire, and a URL in a payload
must never make Parley fetch from its own network (private, loopback or link-local addresses)."""

from __future__ import annotations

import ipaddress
import logging
import mimetypes
import socket
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.core.files.base import ContentFile

from inbox.models import Attachment

log = logging.getLogger(__name__)

ALLOWED_CONTENT_PREFIXES = ("image/", "video/", "audio/", "application/", "text/plain")


class MediaRefused(Exception):
    pass


def check_url(url: str) -> None:
    """Refuse URLs that are not http(s) or that resolve to a non-public address."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise MediaRefused("not an http(s) URL")
    if parsed.hostname in settings.MEDIA_FETCH_ALLOWED_HOSTS:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise MediaRefused(f"host does not resolve: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise MediaRefused(f"{parsed.hostname} resolves to a non-public address")


def download(
    url: str, *, max_bytes: int | None = None, session: requests.Session | None = None
) -> tuple[bytes, str]:
    """Fetch ``url`` within the size cap; returns (content, content type). No redirects are
    followed blindly: each hop is checked like the first."""
    max_bytes = max_bytes or settings.MEDIA_MAX_BYTES
    http = session or requests.Session()
    for _hop in range(4):
        check_url(url)
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


def _platform_session(attachment: Attachment) -> requests.Session | None:
    """The connector's credentialed session for platforms whose media needs one (X)."""
    from connectors.registry import get_connector

    account = attachment.message.account
    return get_connector(account.platform).media_session(account)
