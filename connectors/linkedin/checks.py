"""System checks: warn when LinkedIn organisations exist but could not work."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.db import DatabaseError


def _linkedin_accounts() -> list[dict]:
    from inbox.models import Platform, PlatformAccount

    try:
        return [
            {"pk": a.pk, "credentials": a.credentials or {}}
            for a in PlatformAccount.objects.filter(platform=Platform.LINKEDIN)
        ]
    except DatabaseError:
        return []


@register()
def linkedin_settings(app_configs, **kwargs) -> list[Warning]:
    accounts = _linkedin_accounts()
    warnings = []
    unsigned = [a["pk"] for a in accounts if not a["credentials"].get("client_secret")]
    if not settings.LINKEDIN_CLIENT_SECRET and unsigned:
        warnings.append(
            Warning(
                f"LINKEDIN_CLIENT_SECRET is not set and LinkedIn organisations {unsigned} have no "
                "client_secret: LinkedIn's challenge and notifications will be refused.",
                id="parley.linkedin.W001",
            )
        )
    tokenless = [a["pk"] for a in accounts if not a["credentials"].get("access_token")]
    if tokenless:
        warnings.append(
            Warning(
                f"LinkedIn organisations {tokenless} have no access_token: comment replies "
                "cannot be sent.",
                id="parley.linkedin.W002",
            )
        )
    return warnings
