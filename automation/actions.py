"""The actions of rules and macros, each through the service an agent's click goes through, so
domain events, live pushes and every listener follow as they do for a person.

``check`` says why a step cannot run (before anything runs: a macro runs all or nothing);
``perform`` runs one step and raises ``StepRefused`` with the reason when it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from automation import outlets
from automation.spec import PRIORITIES, PRIORITY_NAMES, ROUND_ROBIN, find_user
from chatbot import engine as chatbot
from inbox import assignment, saved_replies, services
from inbox.models import Conversation, Label, Message, SavedReply, Team, User
from inbox.policy import reply_policy


class StepRefused(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Runner:
    """Who the steps run for: an agent running a macro (``user``), or a rule (``rule_name``,
    no user: the changes have no actor, replies go as automated messages)."""

    user: User | None = None
    rule_name: str = ""
    # Fills a saved reply's {{agent.*}} for a rule: the conversation's agent, else the rule's author.
    agent_for_text: User | None = None

    @property
    def automated(self) -> bool:
        return self.user is None


def describe(step: dict[str, Any]) -> str:
    value = step.get("value")
    if value is None:
        return step["type"]
    return f"{step['type']} {value if not isinstance(value, dict) else ''}".strip()


# --- Checks (what a step would need), shared by perform ---------------------------------------


def _label(name: str) -> Label:
    label = Label.objects.filter(name=name).first()
    if label is None:
        raise StepRefused(_("The label “%(n)s” no longer exists.") % {"n": name})
    return label


def _team(name: str, conversation: Conversation) -> Team:
    team = Team.objects.filter(name=name).first()
    if team is None:
        raise StepRefused(_("The team “%(n)s” no longer exists.") % {"n": name})
    if not team.accounts.filter(pk=conversation.account_id).exists():
        raise StepRefused(_("The team “%(n)s” does not handle this account.") % {"n": name})
    return team


def _assignee(value: Any, conversation: Conversation) -> User:
    user = find_user(value)
    if user is None:
        raise StepRefused(_("There is no active user %(v)s.") % {"v": value})
    if not (user.is_admin or user.teams.filter(accounts=conversation.account_id).exists()):
        raise StepRefused(_("%(n)s cannot see this conversation.") % {"n": user.display_name})
    return user


def _round_robin_team(conversation: Conversation) -> Team:
    team = conversation.team or assignment.team_for(conversation)
    if team is None:
        raise StepRefused(_("No team to share the conversation in: set a team first."))
    return team


def _saved_reply(shortcut: str, runner: Runner) -> SavedReply:
    replies = (
        saved_replies.available(runner.user) if runner.user else SavedReply.objects.order_by("pk")
    )
    reply = replies.filter(shortcut=shortcut).first()
    if reply is None:
        raise StepRefused(_("The saved reply /%(s)s is not available.") % {"s": shortcut})
    return reply


def _sender_kind(runner: Runner) -> str:
    # A rule's reply is automated: the bot's window rules apply, never the human-agent tag.
    return Message.SenderKind.BOT if runner.automated else Message.SenderKind.AGENT


def check(
    step: dict[str, Any], conversation: Conversation, runner: Runner, *, now: datetime
) -> None:
    """Raise ``StepRefused`` if the step could not run on this conversation now."""
    kind, value = step["type"], step.get("value")
    if kind in ("add_label", "remove_label"):
        _label(value)
    elif kind == "set_team":
        _team(value, conversation)
    elif kind == "assign":
        if value == ROUND_ROBIN:
            _round_robin_team(conversation)
        elif value is not None:
            _assignee(value, conversation)
    elif kind == "send_saved_reply":
        _saved_reply(value, runner)
        policy = reply_policy(conversation, sender_kind=_sender_kind(runner), now=now)
        if not policy.allowed:
            raise StepRefused(policy.detail)
    elif kind == "notify" and outlets.notifications is None:
        raise StepRefused(_("Notifications are not installed here."))
    elif kind == "webhook":
        if outlets.outbound_webhooks is None:
            raise StepRefused(_("Outbound webhooks are not installed here."))
        if runner.user is not None and not runner.user.is_admin:
            raise StepRefused(_("Only admins may send outbound webhooks."))
    elif kind == "resolve" and conversation.status == Conversation.Status.RESOLVED:
        raise StepRefused(_("The conversation is already resolved."))


# --- Running a step ---------------------------------------------------------------------------


def perform(
    step: dict[str, Any], conversation: Conversation, runner: Runner, *, now: datetime
) -> str:
    """Run one step; returns what it did in a few words (``StepRefused`` when it cannot)."""
    kind, value = step["type"], step.get("value")
    actor = runner.user
    if kind in ("resolve", "notify", "webhook"):
        check(step, conversation, runner, now=now)  # the others check as they go
    if kind in ("add_label", "remove_label"):
        label = _label(value)
        current = list(conversation.labels.all())
        if (label in current) == (kind == "add_label"):
            return _("nothing to change")
        wanted = [*current, label] if kind == "add_label" else [lb for lb in current if lb != label]
        services.set_labels(conversation=conversation, labels=wanted, actor=actor)
    elif kind == "set_team":
        _set_team(conversation, _team(value, conversation), actor)
    elif kind == "assign":
        return _assign(conversation, value, actor)
    elif kind == "set_priority":
        services.set_priority(conversation=conversation, priority=PRIORITIES[value], actor=actor)
    elif kind == "snooze":
        services.change_status(
            conversation=conversation,
            status=Conversation.Status.SNOOZED,
            actor=actor,
            snoozed_until=now + timedelta(minutes=value),
        )
    elif kind == "resolve":
        services.change_status(
            conversation=conversation, status=Conversation.Status.RESOLVED, actor=actor
        )
    elif kind == "add_note":
        services.add_note(conversation=conversation, author=actor, text=_note_text(value, runner))
    elif kind == "send_saved_reply":
        _send_saved_reply(conversation, value, runner, now=now)
    elif kind == "stop_bot":
        if conversation.bot_enabled:
            chatbot.hand_off(conversation, reason={"by": "automation"}, actor=actor)
    elif kind == "notify":
        try:
            count = outlets.notify(
                value=value, conversation=conversation, actor=actor, kind="automation"
            )
        except outlets.Unavailable as exc:
            raise StepRefused(str(exc))
        return _("notified %(n)d") % {"n": count}
    elif kind == "webhook":
        try:
            outlets.send_webhook(
                subscription=value["subscription"],
                event="automation.matched",
                data=webhook_data(conversation, runner),
            )
        except outlets.Unavailable as exc:
            raise StepRefused(str(exc))
    return _("done")


def _set_team(conversation: Conversation, team: Team, actor: User | None) -> None:
    keep = conversation.assignee
    if keep is not None and not keep.is_active:
        keep = None
    services.assign(conversation=conversation, actor=actor, assignee=keep, team=team)


def _assign(conversation: Conversation, value: Any, actor: User | None) -> str:
    if value is None:
        services.assign(conversation=conversation, actor=actor, assignee=None)
        return _("unassigned")
    if value == ROUND_ROBIN:
        chosen = assignment.assign_next(conversation, _round_robin_team(conversation))
        if chosen is None:
            return _("queued: no agent of the team is free")
        return _("assigned to %(n)s") % {"n": chosen.display_name}
    user = _assignee(value, conversation)
    services.assign(conversation=conversation, actor=actor, assignee=user)
    return _("assigned to %(n)s") % {"n": user.display_name}


def _note_text(text: str, runner: Runner) -> str:
    if runner.automated:
        return _("Automation “%(r)s”: %(t)s") % {"r": runner.rule_name, "t": text}
    return text


def _send_saved_reply(conversation: Conversation, shortcut: str, runner: Runner, *, now) -> None:
    reply = _saved_reply(shortcut, runner)
    agent = runner.user or conversation.assignee or runner.agent_for_text
    if agent is None:
        # Nobody to sign as: {{agent.*}} reads as the team (an unsaved user, only rendered).
        agent = User(username=_("the team"))
    text = saved_replies.render(reply.text, conversation=conversation, agent=agent)
    try:
        services.queue_reply(
            conversation=conversation,
            text=text,
            author=runner.user,
            sender_kind=_sender_kind(runner),
            now=now,
            metadata={"saved_reply": reply.shortcut},
        )
    except services.ReplyRefused as refused:
        raise StepRefused(refused.detail)


def webhook_data(conversation: Conversation, runner: Runner) -> dict[str, Any]:
    return {
        "rule": runner.rule_name or None,
        "macro_run_by": runner.user.pk if runner.user else None,
        "conversation": {
            "id": conversation.pk,
            "account": conversation.account_id,
            "status": conversation.status,
            "assignee": conversation.assignee_id,
            "team": conversation.team.name if conversation.team_id else None,
            "priority": PRIORITY_NAMES.get(conversation.priority),
            "labels": sorted(conversation.labels.values_list("name", flat=True)),
        },
    }
