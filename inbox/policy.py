"""Platform rules applied to one reply, before anything is queued.

The connector declares its rules as data (``connectors.base.PlatformRules``); this module reads
them for a conversation and says whether a reply may go, in which window (a neutral
``SendWindow`` the connector maps to its wire terms), and what the composer should tell the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from connectors.base import SendWindow
from connectors.registry import get_connector
from inbox.formatting import duration
from inbox.models import Contact, Conversation, Message, PlatformAccount
from inbox.send_refusals import send_warning


@dataclass(frozen=True)
class ReplyPolicy:
    allowed: bool
    code: str = "ok"
    # A sentence for the agent: why it is refused, or how it will be sent.
    detail: str = ""
    # The window the reply relies on; the connector says it in the platform's terms.
    window: SendWindow = SendWindow.NONE
    # When the current window closes (None: no window, or already closed).
    window_closes_at: datetime | None = None


def _duration(seconds: float) -> str:
    """A window in two units ("3 h 12 min"): the agent plans by it."""
    return duration(seconds, parts=2)


def reply_policy(
    conversation: Conversation,
    *,
    sender_kind: str = Message.SenderKind.AGENT,
    is_promotional: bool = False,
    now: datetime | None = None,
) -> ReplyPolicy:
    now = now or timezone.now()
    account = conversation.account
    connector = get_connector(account.platform)
    rules = connector.rules
    name = account.get_platform_display()

    if account.status == PlatformAccount.Status.DISCONNECTED:
        return ReplyPolicy(
            False,
            "account_disconnected",
            _("This %(platform)s account is disconnected: ask an admin.") % {"platform": name},
        )
    if is_promotional and conversation.contact.marketing_consent != Contact.Consent.OPTED_IN:
        return ReplyPolicy(
            False,
            "not_opted_in",
            _("This contact has not opted in to promotional messages."),
        )
    if conversation.kind == Conversation.Kind.COMMENT and rules.comment_replies:
        # A public reply under a comment is not a message: the messaging window does not apply.
        return ReplyPolicy(True, detail=_("A public reply under the customer's comment."))
    if rules.reply_window is None:
        # A platform without a window can still refuse (X: the contact's DM settings); a refusal
        # remembered on the conversation is what the composer says.
        warning = send_warning(conversation)
        if warning is not None:
            return ReplyPolicy(
                True, code=str(warning.get("code") or "ok"), detail=warning["detail"]
            )
        return ReplyPolicy(True, detail=_("%(platform)s has no reply window.") % {"platform": name})

    last = conversation.last_inbound_at
    if last is None:
        if rules.business_can_initiate:
            return ReplyPolicy(True)
        return ReplyPolicy(
            False,
            "cannot_initiate",
            _(
                "%(platform)s does not let a business start a conversation: the customer must "
                "write first."
            )
            % {"platform": name},
        )
    elapsed = now - last
    if elapsed <= rules.reply_window:
        closes = last + rules.reply_window
        return ReplyPolicy(
            True,
            detail=_("%(platform)s window closes in %(duration)s.")
            % {"platform": name, "duration": _duration((closes - now).total_seconds())},
            window=SendWindow.WITHIN,
            window_closes_at=closes,
        )
    human_window = rules.human_agent_window
    human_enabled = bool(account.options.get("human_agent"))
    if human_window and elapsed <= human_window:
        closes = last + human_window
        if sender_kind == Message.SenderKind.AGENT and human_enabled:
            return ReplyPolicy(
                True,
                detail=_(
                    "Outside the %(window)s window: sent with the human-agent tag (closes in "
                    "%(duration)s)."
                )
                % {
                    "window": _duration(rules.reply_window.total_seconds()),
                    "duration": _duration((closes - now).total_seconds()),
                },
                window=SendWindow.EXTENDED_AGENT,
                window_closes_at=closes,
            )
        if sender_kind != Message.SenderKind.AGENT:
            return ReplyPolicy(
                False,
                "window_closed",
                _(
                    "The bot cannot answer on %(platform)s more than %(window)s after the "
                    "customer's last message."
                )
                % {"platform": name, "window": _duration(rules.reply_window.total_seconds())},
            )
        return ReplyPolicy(
            False,
            "window_closed",
            _(
                "The %(platform)s reply window closed %(duration)s ago and this account does not "
                "have the human-agent feature enabled."
            )
            % {
                "platform": name,
                "duration": _duration((elapsed - rules.reply_window).total_seconds()),
            },
        )
    return ReplyPolicy(
        False,
        "window_closed",
        _(
            "%(platform)s no longer accepts a reply here: the customer's last message was "
            "%(duration)s ago."
        )
        % {"platform": name, "duration": _duration(elapsed.total_seconds())},
    )
