"""``{% account_health_banner %}``: the admins' banner of accounts that need attention."""

from django import template

from inbox.settings_area import health

register = template.Library()


@register.inclusion_tag("settings/_health_banner.html", takes_context=True)
def account_health_banner(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_admin:
        return {"unhealthy": []}
    return {"unhealthy": health.unhealthy_accounts()}
