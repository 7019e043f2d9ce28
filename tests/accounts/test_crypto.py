"""Credentials at rest: HKDF-derived keys, and tokens of the old derivation still readable."""

import base64
import hashlib
import json

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.db import connection

from inbox import crypto
from inbox.models import PlatformAccount
from tests.factories import AccountFactory


def sha256_fernet(secret: str) -> Fernet:
    """The derivation Parley used before HKDF."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def hkdf_fernet(secret: str) -> Fernet:
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"parley credentials at rest v1"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def test_new_ciphertexts_use_the_hkdf_key_not_a_bare_hash(settings):
    settings.CREDENTIALS_KEYS = ["first-secret"]
    token = crypto.encrypt({"page_access_token": "EAAB"})
    assert json.loads(hkdf_fernet("first-secret").decrypt(token.encode())) == {
        "page_access_token": "EAAB"
    }
    with pytest.raises(Exception):  # noqa: B017 - any refusal: the bare hash is not the key
        sha256_fernet("first-secret").decrypt(token.encode())


@pytest.mark.django_db
def test_credentials_stored_with_the_old_derivation_still_decrypt_and_move_to_hkdf(settings):
    settings.CREDENTIALS_KEYS = ["rotated-in", "old-secret"]
    account = AccountFactory(credentials={"secret": "placeholder"})
    legacy_token = sha256_fernet("old-secret").encrypt(b'{"secret": "from-2025"}').decode()

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_platformaccount SET credentials = %s WHERE id = %s",
            [legacy_token, account.pk],
        )

    account = PlatformAccount.objects.get(pk=account.pk)
    assert account.credentials == {"secret": "from-2025"}

    account.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM inbox_platformaccount WHERE id = %s",
            [account.pk],
        )
        (stored,) = cursor.fetchone()
    assert json.loads(hkdf_fernet("rotated-in").decrypt(stored.encode())) == {"secret": "from-2025"}
