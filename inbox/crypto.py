"""Encryption at rest for platform credentials (Fernet, keys derived from settings).

Each secret of ``CREDENTIALS_KEYS`` yields a Fernet key through HKDF-SHA256 with a purpose
label, so the key that guards credentials is unrelated to any other use of the same secret
(``SECRET_KEY`` also signs sessions and CSRF tokens). Tokens written before HKDF were keyed with
a bare SHA-256 of the secret: those keys stay, last and decrypt-only, so stored credentials
keep working; each is re-encrypted with the HKDF key the next time it is saved.
"""

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

# The purpose label: changing it makes every stored credential unreadable.
HKDF_INFO = b"parley credentials at rest v1"


def derive_key(secret: str) -> bytes:
    """The Fernet key (url-safe base64) for credentials derived from one secret."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


def legacy_key(secret: str) -> bytes:
    """The key of tokens written before HKDF (bare SHA-256 of the secret): decrypt only."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


@cache
def _fernet_for(secrets: tuple[str, ...]) -> MultiFernet:
    # MultiFernet encrypts with the first key and tries every key to decrypt.
    current = [Fernet(derive_key(secret)) for secret in secrets]
    legacy = [Fernet(legacy_key(secret)) for secret in secrets]
    return MultiFernet(current + legacy)


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.CREDENTIALS_KEYS))


def encrypt(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value).encode()).decode()


def decrypt(token: str) -> dict[str, Any]:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("credentials cannot be decrypted with the configured keys") from exc


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token: never readable in the database or a dump."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        return decrypt(value)

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return decrypt(value)

    def get_prep_value(self, value):
        return encrypt(value or {})
