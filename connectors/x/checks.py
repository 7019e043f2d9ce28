"""System checks: warn when X accounts exist but could not work."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.db import DatabaseError


def _x_accounts() -> list[dict]:
    from inbox.models import Platform, PlatformAccount

    try:
        return [
            {"pk": a.pk, "credentials": a.credentials or {}, "options": a.options or {}}
            for a in PlatformAccount.objects.filter(platform=Platform.X)
        ]
    except DatabaseError:
        # Not migrated yet (checks also run before `migrate`): nothing to say.
        return []


@register()
def x_settings(app_configs, **kwargs) -> list[Warning]:
    accounts = _x_accounts()
    if not accounts:
        return []
    warnings = []
    polling = [a for a in accounts if a["options"].get("mode") == "polling"]
    hooked = [a for a in accounts if a not in polling]
    unsigned = [a["pk"] for a in hooked if not a["credentials"].get("consumer_secret")]
    if not settings.X_CONSUMER_SECRET and unsigned:
        warnings.append(
            Warning(
                f"X_CONSUMER_SECRET is not set and X accounts {unsigned} have no consumer_secret: "
                "their webhooks will be refused (or set mode=polling).",
                id="parley.x.W001",
            )
        )
    secrets = {a["credentials"].get("consumer_secret") for a in hooked} - {None, ""}
    if hooked and not settings.X_CONSUMER_SECRET and len(secrets) > 1:
        warnings.append(
            Warning(
                "X accounts use different consumer secrets and X_CONSUMER_SECRET is not set: "
                "the CRC check of /webhooks/x/ cannot be answered. Set X_CONSUMER_SECRET to "
                "the secret of the app that registered the webhook.",
                id="parley.x.W002",
            )
        )
    tokenless = [a["pk"] for a in accounts if not a["credentials"].get("access_token")]
    if tokenless:
        warnings.append(
            Warning(
                f"X accounts {tokenless} have no access_token: they can neither send nor poll.",
                id="parley.x.W003",
            )
        )
    return warnings
