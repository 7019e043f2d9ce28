"""Filters of the configuration pages."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def hours_minutes(seconds: int | None) -> str:
    """An SLA target as people write it: "1 h 30 min", "45 min", "—" for none."""
    if seconds in (None, ""):
        return "—"
    hours, minutes = divmod(int(seconds) // 60, 60)
    if hours and minutes:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": minutes}
