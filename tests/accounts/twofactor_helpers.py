"""TOTP codes computed in the test, as an authenticator app computes them (RFC 6238)."""

from __future__ import annotations

import time
from base64 import b32decode

from django_otp.oath import TOTP


def code_for(secret_b32: str, steps_ahead: int = 0) -> str:
    """The six digits an app shows for this key, ``steps_ahead`` 30-second steps from now.
    A device accepts each step once: a login right after enrolment uses the next step."""
    left_in_step = 30 - time.time() % 30
    if left_in_step < 2:
        # A code read as its step ends reaches the server in the next step: django-otp then
        # learns a drift of one step and refuses the next step's code. An app user would wait.
        time.sleep(left_in_step + 0.05)
    totp = TOTP(b32decode(secret_b32), step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"
