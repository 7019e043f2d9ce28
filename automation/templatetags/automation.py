"""``{% macro_menu conversation %}``: the conversation's Macros menu (a button per macro the
user may run), for the inbox's conversation header."""

from __future__ import annotations

from typing import Any

from django import template

from automation import services

register = template.Library()


@register.inclusion_tag("automation/_macro_menu.html", takes_context=True)
def macro_menu(context: template.Context, conversation: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    macros = list(services.macros_for(user)) if user is not None and user.is_authenticated else []
    return {"conversation": conversation, "macros": macros, "csrf_token": context.get("csrf_token")}
