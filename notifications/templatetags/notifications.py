"""``{% notification_bell %}`` in the top bar and ``{% notification_preferences %}`` on
``/profile/``."""

from django import template

from notifications import services, views

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    user = context["request"].user
    prefs = services.preferences(user)
    unread = services.unread_count(user.pk)
    return {
        "unread": unread,
        "capped": unread >= services.UNREAD_COUNT_CAP,
        "prefs": prefs,
    }


@register.inclusion_tag("notifications/_preferences.html", takes_context=True)
def notification_preferences(context) -> dict:
    request = context["request"]
    return {
        "form": views.preferences_form(request.user),
        "email_configured": services.email_configured(),
        "has_address": bool(request.user.email),
        "csrf_token": context.get("csrf_token"),
    }
