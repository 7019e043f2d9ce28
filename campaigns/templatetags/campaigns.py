from django import template

from campaigns.report import STATUS_NAMES

register = template.Library()


@register.filter
def recipient_status(status: str) -> str:
    """A recipient's status as people read it."""
    return str(STATUS_NAMES.get(status, status))
