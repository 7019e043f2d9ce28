"""What notifies, as a listener of the inbox's domain events (registered in the table of
``inbox/listeners.py``; it runs after commit, once per event, with a receipt).

- ``Assigned``: the new assignee.
- ``NoteAdded``: each teammate the note ``@mentions``.
- ``SlaWarned`` / ``SlaBreached``: the assignee; an unassigned conversation's team.
- ``MessageReceived``: a conversation's first customer message, whoever watches a queue (team)
  it is in (not ``ConversationOpened``: that is a dispatch of its own, and an ingest batch stays
  one dispatch); a later one, the agent who owns the conversation. One notification per
  conversation and dispatch, however many messages a batch brought.

Never the actor of the event, never anyone who may not see the conversation
(``services.notify``).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from inbox.events import (
    Assigned,
    DomainEvent,
    MessageReceived,
    NoteAdded,
    SlaBreached,
    SlaWarned,
)
from inbox.models import Conversation, ConversationEvent, Message, Note, Team, User
from notifications import mentions, services
from notifications.models import Notification

Kind = Notification.Kind
EXCERPT = 120


def on_events(events: list[DomainEvent]) -> None:
    conversations = Conversation.objects.select_related("contact", "assignee", "team").in_bulk(
        {e.conversation_id for e in events}
    )
    actors = User.objects.in_bulk({e.actor_id for e in events if e.actor_id})
    first_messages = {}  # conversation id -> its first customer message's event in this dispatch
    for event in events:
        if isinstance(event, MessageReceived) and not event.is_system:
            first_messages.setdefault(event.conversation_id, event)
    new = _new_conversations(first_messages)
    for event in events:
        conversation = conversations.get(event.conversation_id)
        if conversation is None:
            continue
        actor = actors.get(event.actor_id) if event.actor_id else None
        if isinstance(event, Assigned):
            _assigned(event, conversation, actor)
        elif isinstance(event, NoteAdded):
            _mentioned(event, conversation, actor)
        elif isinstance(event, SlaWarned | SlaBreached):
            _sla(event, conversation)
        elif first_messages.get(conversation.pk) is event:
            if conversation.pk in new:
                _opened(event, conversation)
            else:
                _customer_replied(event, conversation)


def _contact(conversation: Conversation) -> str:
    return conversation.contact.name or _("a customer")


def _excerpt(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(EXCERPT)


def _assigned(event: Assigned, conversation: Conversation, actor: User | None) -> None:
    assignee = User.objects.filter(pk=event.data.get("to")).first()
    if assignee is None:
        return
    contact = _contact(conversation)
    if actor is not None:
        text = _("%(actor)s assigned you the conversation with %(contact)s") % {
            "actor": actor.display_name,
            "contact": contact,
        }
    else:
        text = _("The conversation with %(contact)s was assigned to you") % {"contact": contact}
    services.notify(
        [assignee],
        kind=Kind.ASSIGNED,
        conversation=conversation,
        text=text,
        actor=actor,
        event_id=event.id,
    )


def _mentioned(event: NoteAdded, conversation: Conversation, actor: User | None) -> None:
    note = Note.objects.filter(pk=event.data.get("note")).first()
    if note is None or note.by_bot:
        return
    users = mentions.mentioned_users(note.text)
    if not users:
        return
    text = _("%(actor)s mentioned you (conversation with %(contact)s): “%(excerpt)s”") % {
        "actor": actor.display_name if actor else _("Someone"),
        "contact": _contact(conversation),
        "excerpt": _excerpt(note.text),
    }
    services.notify(
        users,
        kind=Kind.MENTION,
        conversation=conversation,
        text=text,
        actor=actor,
        event_id=event.id,
    )


def _responsible(conversation: Conversation) -> list[User]:
    """Whose conversation it is: its agent, else its team (else the teams granted its account:
    the queue it waits in)."""
    if conversation.assignee_id:
        return [conversation.assignee]
    teams = [conversation.team] if conversation.team_id else _account_teams(conversation)
    members: dict[int, User] = {}
    for team in teams:
        members.update((user.pk, user) for user in services.team_members(team))
    return list(members.values())


def _account_teams(conversation: Conversation) -> list[Team]:
    return list(Team.objects.filter(accounts=conversation.account_id).order_by("id"))


def _sla(event: SlaWarned | SlaBreached, conversation: Conversation) -> None:
    target = str(event.data.get("target", "")).replace("_", " ")
    values = {"contact": _contact(conversation), "target": target}
    if isinstance(event, SlaBreached):
        kind = Kind.SLA_BREACHED
        text = _("SLA breached: %(target)s for %(contact)s") % values
    else:
        kind = Kind.SLA_WARNING
        text = _("SLA warning: %(target)s for %(contact)s is due soon") % values
    services.notify(
        _responsible(conversation),
        kind=kind,
        conversation=conversation,
        text=text,
        event_id=event.id,
    )


def _new_conversations(first_messages: dict[int, MessageReceived]) -> set[int]:
    """The conversations whose first customer message is in this dispatch. One query, and
    none when nobody watches a queue (most dispatches)."""
    if not first_messages or not services.anyone_watches():
        return set()
    earlier = Q()
    for conversation_id, event in first_messages.items():
        earlier |= Q(conversation_id=conversation_id, pk__lt=event.id)
    seen = set(
        ConversationEvent.objects.filter(earlier, kind=ConversationEvent.Kind.MESSAGE_RECEIVED)
        .values_list("conversation_id", flat=True)
        .distinct()
    )
    return set(first_messages) - seen


def _opened(event: MessageReceived, conversation: Conversation) -> None:
    teams = [conversation.team] if conversation.team_id else _account_teams(conversation)
    if not teams:
        return
    text = _("New conversation from %(contact)s in %(team)s") % {
        "contact": _contact(conversation),
        "team": ", ".join(team.name for team in teams),
    }
    services.notify(
        services.watchers(teams),
        kind=Kind.NEW_CONVERSATION,
        conversation=conversation,
        text=text,
        event_id=event.id,
    )


def _customer_replied(event: MessageReceived, conversation: Conversation) -> None:
    """To the conversation's agent; not when the message is what just gave it to them (the
    assignment notifies)."""
    if conversation.assignee_id is None:
        return
    if ConversationEvent.objects.filter(
        conversation=conversation, kind=ConversationEvent.Kind.ASSIGNED, pk__gt=event.id
    ).exists():
        return
    message = Message.objects.filter(pk=event.message_id).only("text").first()
    text = _("%(contact)s replied: “%(excerpt)s”") % {
        "contact": _contact(conversation),
        "excerpt": _excerpt(message.text if message else ""),
    }
    services.notify(
        [conversation.assignee],
        kind=Kind.CUSTOMER_REPLY,
        conversation=conversation,
        text=text,
        event_id=event.id,
    )
