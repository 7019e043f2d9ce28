"""``{% account_health_banner %}``: the admins' banner of accounts that need attention."""

from django import template
from django.core.cache import cache

from inbox.settings_area import health

register = template.Library()

# The banner is on every admin page: its health reads are kept this many seconds (per process)
# so browsing the dashboard does not repeat them on each click.
BANNER_TTL = 15
BANNER_KEY = health.BANNER_CACHE_KEY


@register.inclusion_tag("settings/_health_banner.html", takes_context=True)
def account_health_banner(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_admin:
        return {"unhealthy": []}
    unhealthy = cache.get(BANNER_KEY)
    if unhealthy is None:
        unhealthy = [
            {"pk": h.account.pk, "name": str(h.account), "label": h.label}
            for h in health.unhealthy_accounts()
        ]
        cache.set(BANNER_KEY, unhealthy, BANNER_TTL)
    return {"unhealthy": unhealthy}
