"""System checks: warn when Messenger / Instagram accounts exist but could not work."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.db import DatabaseError


def _meta_accounts() -> list[dict]:
    from inbox.models import Platform, PlatformAccount

    try:
        return [
            {"pk": a.pk, "credentials": a.credentials or {}}
            for a in PlatformAccount.objects.filter(
                platform__in=(Platform.MESSENGER, Platform.INSTAGRAM)
            )
        ]
    except DatabaseError:
        # Not migrated yet (checks also run before `migrate`): nothing to say.
        return []


@register()
def meta_settings(app_configs, **kwargs) -> list[Warning]:
    accounts = _meta_accounts()
    if not accounts:
        return []
    warnings = []
    unsigned = [a["pk"] for a in accounts if not a["credentials"].get("app_secret")]
    if not settings.META_APP_SECRET and unsigned:
        warnings.append(
            Warning(
                "META_APP_SECRET is not set and Meta accounts "
                f"{unsigned} have no app_secret: their webhooks will be refused.",
                id="parley.meta.W001",
            )
        )
    if not settings.META_VERIFY_TOKEN and not any(
        a["credentials"].get("verify_token") for a in accounts
    ):
        warnings.append(
            Warning(
                "META_VERIFY_TOKEN is not set: Meta's webhook handshake will fail.",
                id="parley.meta.W002",
            )
        )
    tokenless = [
        a["pk"]
        for a in accounts
        if not (a["credentials"].get("page_access_token") or a["credentials"].get("access_token"))
    ]
    if tokenless:
        warnings.append(
            Warning(f"Meta accounts {tokenless} have no access token.", id="parley.meta.W003")
        )
    return warnings
