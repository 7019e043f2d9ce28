"""Two-factor authentication: an authenticator app (TOTP) and single-use recovery codes.

Built on django-otp: a user has at most one TOTP device ("Authenticator app") and one static
device holding their recovery codes. Enrolment is two steps — a device made unconfirmed, then
confirmed by a code from the app — so a mistyped secret never locks anyone out. The login asks
for a code only once the password is right (``inbox.signin``); wrong codes are throttled by
django-otp per device and counted by the login throttle. Enrolment, use, turning off and an
admin's reset are audited.
"""

from __future__ import annotations

import re
from base64 import b32encode
from collections.abc import Callable

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.models import User
from inbox.settings_area import audit

TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
RECOVERY_CODES = 10
TOTP_CODE = re.compile(r"\d{6}")


def is_enabled(user: User) -> bool:
    """Whether the user's login asks for a second factor."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_required(user: User) -> bool:
    """REQUIRE_ADMIN_2FA: admins must have a second factor."""
    return settings.REQUIRE_ADMIN_2FA and user.is_admin


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device of an enrolment in progress (made on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in (base32)."""
    return b32encode(device.bin_key).decode()


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


@transaction.atomic
def confirm(*, user: User, code: str) -> list[str] | None:
    """Finish enrolment with a code from the app: the device is confirmed and a fresh set of
    recovery codes is made and returned (shown once). None when the code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not TOTP_CODE.fullmatch(code) or not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    audit.record(actor=user, action="2fa.enabled", target=user)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def verify(user: User, code: str) -> str | None:
    """Check a login code: six digits from the app, or a recovery code (used up by this).
    Returns what was used ("authenticator app" or "recovery code"), or None."""
    code = code.strip().replace(" ", "").lower()
    if TOTP_CODE.fullmatch(code):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        used = "authenticator app" if device is not None and device.verify_token(code) else None
    else:
        used = "recovery code" if _use_recovery_code(user, code) else None
    if used:
        audit.record(actor=user, action="2fa.used", target=user, extra={"with": used})
    return used


@transaction.atomic
def _use_recovery_code(user: User, code: str) -> bool:
    device = StaticDevice.objects.select_for_update().filter(user=user).first()
    if device is None or not device.verify_is_allowed()[0]:
        return False
    # Deleted by the statement that matches it: two logins racing with one code get one use.
    deleted, _ = StaticToken.objects.filter(device=device, token=code).delete()
    if deleted:
        device.throttle_reset()
        return True
    device.throttle_increment()
    return False


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


@transaction.atomic
def turn_off(*, user: User) -> None:
    """The user turns it off themselves (the view has checked a current code)."""
    _remove_devices(user)
    audit.record(actor=user, action="2fa.disabled", target=user)


@transaction.atomic
def reset(*, actor: User, user: User) -> None:
    """An admin removes a user's second factor (a lost phone): the next login asks only for
    the password, and the user can enrol again."""
    _remove_devices(user)
    audit.record(actor=actor, action="2fa.reset", target=user)


def _remove_devices(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


# --- REQUIRE_ADMIN_2FA ------------------------------------------------------------------------
# The scripts' translations (/jsi18n/) too: the enrolment page speaks the admin's language.
ENROLMENT_PATHS = ("/account/security/", "/logout/", "/static/", "/jsi18n/")


class RequireAdminTwoFactorMiddleware:
    """With REQUIRE_ADMIN_2FA, an admin without a second factor can use nothing but the page
    that sets it up (and logging out): pages redirect there, API calls get 403."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and is_required(user)
            and not request.path.startswith(ENROLMENT_PATHS)
            and not is_enabled(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Set up two-factor authentication at /account/security/ first."},
                    status=403,
                )
            return redirect("inbox:account-security")
        return self.get_response(request)
