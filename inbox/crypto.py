"""Encryption at rest for platform credentials (Fernet, keys derived from settings)."""

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _fernet() -> MultiFernet:
    keys = [
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))
        for key in settings.CREDENTIALS_KEYS
    ]
    return MultiFernet(keys)


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
