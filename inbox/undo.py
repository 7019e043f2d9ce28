"""Undo of a resolve. The state before it waits in the agent's session for a few seconds, so
the offer survives the page moving on (to the next conversation, or the list); taking it back
goes through the services like any other change."""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chatbot import engine as chatbot
from inbox import services
from inbox.models import Conversation, User

UNDO_SECONDS = 10
SESSION_KEY = "parley_undo_resolve"


def offer_if_resolved(
    request: HttpRequest, conversation: Conversation, before: Conversation
) -> None:
    """After an action: when it resolved ``conversation`` (``before`` is a copy read before),
    remember the state before as this session's undo offer."""
    if (
        conversation.status != Conversation.Status.RESOLVED
        or before.status == Conversation.Status.RESOLVED
    ):
        return
    request.session[SESSION_KEY] = {
        "conversation": before.pk,
        "name": before.contact.name if before.contact_id else "",
        "status": before.status,
        "snoozed_until": before.snoozed_until.isoformat() if before.snoozed_until else None,
        "assignee": before.assignee_id,
        "bot_enabled": before.bot_enabled,
        "until": time.time() + UNDO_SECONDS,
    }


def pending(request: HttpRequest) -> dict[str, Any] | None:
    """The offer still open, with the seconds it has left; None when there is none."""
    state = request.session.get(SESSION_KEY)
    if not state:
        return None
    left = state["until"] - time.time()
    if left <= 0:
        return None
    return {**state, "seconds_left": max(1, round(left))}


def take(request: HttpRequest, conversation_id: int) -> dict[str, Any] | None:
    """Use the offer for this conversation (once); None when there is none or it is too late."""
    state = pending(request)
    if state is None or state["conversation"] != conversation_id:
        return None
    del request.session[SESSION_KEY]
    return state


def restore(*, conversation: Conversation, actor: User, state: dict[str, Any]) -> None:
    """Put back the status, assignee and bot setting the resolve changed."""
    snoozed_until = parse_datetime(state["snoozed_until"]) if state["snoozed_until"] else None
    status = state["status"]
    if (
        status == Conversation.Status.SNOOZED
        and (snoozed_until or timezone.now()) <= timezone.now()
    ):
        status, snoozed_until = Conversation.Status.OPEN, None  # its time came meanwhile
    if status == Conversation.Status.RESOLVED:
        status = Conversation.Status.OPEN  # resolved twice: undo means open
    services.change_status(
        conversation=conversation, status=status, actor=actor, snoozed_until=snoozed_until
    )
    if conversation.assignee_id != state["assignee"]:
        assignee = User.objects.filter(pk=state["assignee"], is_active=True).first()
        services.assign(conversation=conversation, actor=actor, assignee=assignee)
    if not state["bot_enabled"] and conversation.bot_enabled:
        # The resolve gave the conversation back to the bot; the agent had taken it.
        chatbot.hand_off(conversation, reason={"by": "agent"}, actor=actor)
