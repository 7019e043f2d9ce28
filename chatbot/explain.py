"""A bot decision (``chatbot.engine.Decision``) in words: why it answers what it answers. The
settings page's "try it" box shows these next to the answer."""

from __future__ import annotations

from django.utils.translation import gettext as _

from chatbot.engine import Decision
from chatbot.models import BotReply

SKIP_REASONS = {
    "no_text": "There is no text to answer.",
    "bot_off": "The bot is off on this account (or not set up): it would not answer.",
    "handed_off": "The conversation is with the team: the bot stays quiet.",
    "hourly_cap": "The bot has answered this conversation its maximum times this hour.",
    "too_old": "The message is too old to answer.",
    "not_a_dm": "The bot answers direct messages only.",
    "no_answer": "No rule or FAQ entry matched, and hand-off on low confidence is off: no answer.",
    "never_open": "The business hours never open: there is no time to promise.",
    "away_already_sent": "The away message was already sent for this closed period.",
}


def reasons(decision: Decision) -> list[str]:
    detail = decision.detail
    found: list[str] = []
    action = decision.action
    if action in (BotReply.Action.OPT_OUT, BotReply.Action.OPT_IN):
        verb = _("unsubscribed from") if action == BotReply.Action.OPT_OUT else _("subscribed to")
        found.append(
            _(
                "“%(word)s” is a consent keyword: the contact would be %(verb)s promotional messages."
            )
            % {"word": detail.get("keyword", ""), "verb": verb}
        )
    elif action == BotReply.Action.SKIPPED:
        reason = SKIP_REASONS.get(detail.get("reason", ""))
        found.append(str(reason) if reason else _("The bot would not answer."))
    elif action == BotReply.Action.RULE:
        found.append(
            _("Rule “%(rule)s” matched its trigger “%(trigger)s”.")
            % {"rule": detail.get("rule_name", ""), "trigger": detail.get("trigger", "")}
        )
    elif action == BotReply.Action.FAQ:
        found.append(
            _(
                "FAQ entry “%(question)s” matched: closest phrasing “%(matched)s”, similarity "
                "%(score)s/100."
            )
            % {k: detail.get(k, "") for k in ("question", "matched", "score")}
        )
    elif action == BotReply.Action.HANDOFF:
        if detail.get("phrase"):
            found.append(
                _("“%(phrase)s” asks for a person: the team takes over.")
                % {"phrase": detail["phrase"]}
            )
        else:
            found.append(
                _("No rule matched and no FAQ entry was close enough: the team takes over.")
            )
            if decision.note:
                found.append(decision.note)
    elif action == BotReply.Action.AWAY:
        found.append(
            _("Nothing matched and the team is away: the away message says when it is back.")
        )
    elif action == BotReply.Action.GREETING:
        found.append(_("Nothing matched, but this is a first message: the greeting alone."))
    if detail.get("away"):
        found.append(_("Outside business hours: the hand-off message is the away message."))
    if detail.get("greeting") and action != BotReply.Action.GREETING:
        found.append(_("A first message: the greeting goes in front of the answer."))
    return found
