"""The chatbot's decision for one customer message, and its reply through the delivery path.

Order of precedence (first that applies wins; at most one reply per customer message):

1. opt-out / opt-in keyword (every account, even with the bot off or handed off): recorded on
   the contact and confirmed once — only when the state actually changes;
2. nothing for old messages (backfills), non-DM threads, accounts without an enabled bot,
   conversations handed off to humans, or past the hourly cap;
3. hand-off phrase ("agent", "human", configurable) → the team takes over;
4. a rule (keyword, phrase, regular expression with a timeout), in order;
5. an FAQ entry by similarity (rapidfuzz) at or above the threshold; the match is shown to
   agents as a note;
6. otherwise hand-off on low confidence — outside business hours the reply is the away message
   saying when the team is back; with hand-off on low confidence off: the away message (once
   per closed period) outside hours, a greeting for a first message, or nothing.

A greeting is put in front of the reply to a contact's first message. Replies go through
``inbox.services.queue_reply(sender_kind="bot")``, so platform rules (reply windows...) and
delivery retries apply; a refused reply is logged and recorded, the bot stays quiet.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import regex
from django.db import IntegrityError, transaction
from django.utils import timezone
from rapidfuzz import fuzz, process, utils

from chatbot.models import BotReply, BotSettings, FaqEntry, Rule
from connectors.registry import get_connector
from inbox import answers, services
from inbox import events as domain_events
from inbox.models import Contact, Conversation, ConversationEvent, Message, Note
from sla import business_hours as bh
from sla import timers

log = logging.getLogger(__name__)

# Customer messages older than this are not answered (a backfill, a long-stuck queue).
MAX_AGE = timedelta(hours=1)
# Only this much of a message is matched: bounds the cost of fuzzy and regex matching.
MAX_MATCH_CHARS = 2000
REGEX_TIMEOUT = 0.05  # seconds per pattern; catastrophic backtracking is cut off
# Skips that depend on the account or thread, not on the conversation's history: not recorded
# as BotReply rows (the sweep does not look at such messages either).
UNRECORDED = {"bot_off", "not_a_dm", "test_event"}


@dataclass
class Decision:
    action: str
    text: str = ""
    quick_replies: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    handoff: bool = False
    # A private note for agents (the FAQ match, why the bot handed off).
    note: str = ""


def normalize(text: str) -> str:
    """Case-folded, NFKC, inner whitespace collapsed, surrounding punctuation dropped."""
    text = unicodedata.normalize("NFKC", text or "")[:MAX_MATCH_CHARS].casefold()
    return " ".join(text.split()).strip(" .!?¡¿,;:'\"")


def _words(text: str) -> list[str]:
    return regex.findall(r"\w+(?:['’-]\w+)*", text)


def contains_phrase(text: str, phrase: str) -> bool:
    """``phrase`` occurs in ``text`` on word boundaries ("agent" is not in "agenda")."""
    phrase_words = _words(normalize(phrase))
    if not phrase_words:
        return False
    words = _words(text)
    n = len(phrase_words)
    return any(words[i : i + n] == phrase_words for i in range(len(words) - n + 1))


def pattern_matches(pattern: str, text: str, *, owner: str = "pattern") -> bool:
    """A user-written regular expression searched in ``text`` (case-insensitive), cut off after
    ``REGEX_TIMEOUT``; a pattern that times out or does not compile matches nothing (logged).
    Shared with the automation rules' "matches" condition."""
    try:
        return (
            regex.search(pattern, text, flags=regex.IGNORECASE, timeout=REGEX_TIMEOUT) is not None
        )
    except TimeoutError:
        log.warning("%s: pattern %r timed out; skipped", owner, pattern)
    except regex.error as exc:
        log.warning("%s: invalid pattern %r (%s); skipped", owner, pattern, exc)
    return False


def rule_matches(rule: Rule, text: str) -> str | None:
    """The trigger of ``rule`` that matches the normalized ``text``, or None."""
    for trigger in rule.trigger_list():
        if rule.match == Rule.Match.REGEX:
            if pattern_matches(trigger, text, owner=f"rule {rule.pk}"):
                return trigger
        elif contains_phrase(text, trigger):
            return trigger
    return None


def similarity(a: str, b: str, **kwargs: Any) -> float:
    """0–100. The mean of rapidfuzz's token-set ratio (word order and extra words around the
    question do not matter) and token-sort ratio (which keeps a lone word like "order" from
    scoring 100 against every phrasing that contains it). WRatio was tried first: it scored an
    unrelated long message 86 through its partial matching."""
    return (fuzz.token_set_ratio(a, b, **kwargs) + fuzz.token_sort_ratio(a, b, **kwargs)) / 2


def best_faq(entries: list[FaqEntry], text: str) -> tuple[FaqEntry, float, str] | None:
    """The FAQ entry whose question or example is most similar to ``text``: (entry, score 0–100,
    the phrasing that matched)."""
    choices: list[str] = []
    owners: list[FaqEntry] = []
    for entry in entries:
        for phrasing in entry.phrasings():
            choices.append(phrasing)
            owners.append(entry)
    if not choices or not text:
        return None
    found = process.extractOne(text, choices, scorer=similarity, processor=utils.default_process)
    if found is None:
        return None
    phrasing, score, index = found
    return owners[index], float(score), phrasing


def _keyword(text: str, keywords: list[str]) -> str | None:
    wanted = {normalize(k) for k in keywords if normalize(k)}
    return text if text in wanted else None


def _render_options(text: str, options: list[str], platform_has_buttons: bool) -> str:
    if platform_has_buttons or not options:
        return text
    lines = "\n".join(f"{i}. {option}" for i, option in enumerate(options, start=1))
    return f"{text}\n\n{lines}\n(Reply with a number.)"


def _last_bot_options(conversation: Conversation, before: Message) -> list[str]:
    last = (
        Message.objects.filter(
            conversation=conversation,
            sender_kind=Message.SenderKind.BOT,
            created_at__lte=before.created_at,
        )
        .order_by("-created_at", "-id")
        .values_list("metadata", flat=True)
        .first()
    )
    return list(((last or {}).get("bot") or {}).get("options") or [])


def _hours(conversation: Conversation, bot: BotSettings) -> bh.Schedule | None:
    """The bot's business hours, looked up once per decision (kept on the conversation)."""
    if not hasattr(conversation, "_bot_schedule"):
        hours = bot.business_hours or timers.hours_for(conversation)
        conversation._bot_schedule = bh.schedule_from_model(hours)
    return conversation._bot_schedule


def back_text(schedule: bh.Schedule, when: datetime) -> str:
    local = when.astimezone(schedule.zone)
    return f"{local:%A %H:%M} ({local.tzname()})"


# --- Decision ---------------------------------------------------------------------------------


def _setting(bot: BotSettings | None, name: str) -> Any:
    """A bot setting, or its default on accounts without a bot (consent keywords work there)."""
    if bot is not None:
        return getattr(bot, name)
    return BotSettings._meta.get_field(name).get_default()


# (keywords setting, consent state, decision, confirmation setting), in the order tried.
CONSENT_KEYWORDS = (
    (
        "opt_out_keywords",
        Contact.Consent.OPTED_OUT,
        BotReply.Action.OPT_OUT,
        "opt_out_confirmation",
    ),
    ("opt_in_keywords", Contact.Consent.OPTED_IN, BotReply.Action.OPT_IN, "opt_in_confirmation"),
)


def _consent_keyword(bot: BotSettings | None, text: str) -> tuple[str, str, str, str] | None:
    """(keyword, consent state, action, confirmation setting) when ``text`` is a consent
    keyword; reads nothing else and writes nothing (the settings page's "try it" uses it)."""
    for keywords, state, action, confirmation in CONSENT_KEYWORDS:
        word = _keyword(text, _setting(bot, keywords))
        if word is not None:
            return word, state, action, confirmation
    return None


def _consent(
    message: Message, conversation: Conversation, bot: BotSettings | None, text: str
) -> Decision | None:
    found = _consent_keyword(bot, text)
    if found is None:
        return None
    word, state, action, confirmation = found
    # The sender's contact: in a group thread it need not be the one who started it.
    sender = message.sender_identity
    contact_id = sender.contact_id if sender is not None else conversation.contact_id
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if contact.marketing_consent == state:
        # Confirmed once already: say nothing again.
        return Decision(action, detail={"keyword": word, "unchanged": True})
    set_consent(
        contact=contact,
        conversation=conversation,
        state=state,
        source=f"keyword “{word}” ({conversation.account.get_platform_display()}, "
        f"message {message.pk})",
    )
    if conversation.kind != Conversation.Kind.DM:
        # Recorded, but not confirmed in a group thread or under a public post.
        return Decision(action, detail={"keyword": word, "contact": contact.pk})
    return Decision(action, text=_setting(bot, confirmation), detail={"keyword": word})


@dataclass
class Situation:
    """What a decision may read besides the text, asked lazily (most decisions need none of
    it): a real conversation's, or what the settings page's "try it" box supposes."""

    # The business hours that decide "away" (None: always open).
    schedule: Callable[[], bh.Schedule | None]
    # Whether this is the contact's first message on the account (the greeting).
    first_message: Callable[[], bool]
    # Whether an away message already promised this reopening time (once per closed period).
    away_sent: Callable[[datetime], bool]


def _situation(
    message: Message, conversation: Conversation, bot: BotSettings, now: datetime
) -> Situation:
    return Situation(
        schedule=lambda: _hours(conversation, bot),
        first_message=lambda: _is_first_message(message, conversation),
        away_sent=lambda back: _away_sent(conversation, back, now),
    )


def decide(message: Message, conversation: Conversation, *, now: datetime) -> Decision:
    text = normalize(message.text)
    bot = BotSettings.objects.filter(account_id=conversation.account_id).first()
    skipped = BotReply.Action.SKIPPED

    if answers.is_answer(message.metadata):
        # A survey's rating or comment (``inbox.answers``): the survey records it and the bot
        # does not answer it ("5" is not option 5 of its last menu), but STOP still opts out.
        # Recorded, so the sweep does not bring it back.
        consent = _consent(message, conversation, bot, text)
        return consent or Decision(skipped, detail={"reason": "awaited_answer"})
    if text.isdigit():
        # "2" answers the numbered options of the bot's last message.
        options = _last_bot_options(conversation, message)
        if 1 <= int(text) <= len(options):
            text = normalize(options[int(text) - 1])

    consent = _consent(message, conversation, bot, text)
    if consent is not None:
        return consent
    if message.is_deleted or not text:
        return Decision(skipped, detail={"reason": "no_text"})
    if now - message.sent_at > MAX_AGE:
        return Decision(skipped, detail={"reason": "too_old"})
    if bot is None or not bot.enabled:
        return Decision(skipped, detail={"reason": "bot_off"})
    if conversation.is_test:
        # The settings area's test event: no listener sends it here, nor may a sweep or replay.
        return Decision(skipped, detail={"reason": "test_event"})
    if conversation.kind != Conversation.Kind.DM:
        return Decision(skipped, detail={"reason": "not_a_dm"})
    if not conversation.bot_enabled:
        return Decision(skipped, detail={"reason": "handed_off"})
    sent_last_hour = BotReply.objects.filter(
        conversation=conversation, reply__isnull=False, created_at__gte=now - timedelta(hours=1)
    ).count()
    if sent_last_hour >= bot.hourly_cap:
        return Decision(skipped, detail={"reason": "hourly_cap", "cap": bot.hourly_cap})

    situation = _situation(message, conversation, bot, now)
    first_name = conversation.contact.first_name or ""
    return _greeted(
        _answer(bot, conversation.account_id, text, situation, now=now, first_name=first_name),
        bot,
        situation,
        first_name,
    )


def _greeted(decision: Decision, bot: BotSettings, situation: Situation, first_name: str):
    """The greeting in front of the reply to a contact's first message."""
    if decision.text and bot.greeting and situation.first_message():
        greeting = bot.greeting.replace("{first_name}", first_name)
        if decision.action != BotReply.Action.GREETING:
            decision.text = f"{greeting.strip()}\n\n{decision.text}"
        decision.detail["greeting"] = True
    return decision


def explain(account_id: int, text: str, *, now: datetime, first_message: bool = False) -> Decision:
    """What the bot would answer to ``text`` on this account now, and why — for the settings
    page's "try it" box. The same precedence as a real message, but nothing is written and no
    conversation is involved: a consent keyword is reported, not recorded; the hourly cap and
    "away already sent" do not apply."""
    text = normalize(text)
    bot = BotSettings.objects.select_related("business_hours").filter(account_id=account_id).first()
    found = _consent_keyword(bot, text)
    if found is not None:
        word, _state, action, confirmation = found
        return Decision(action, text=_setting(bot, confirmation), detail={"keyword": word})
    if not text:
        return Decision(BotReply.Action.SKIPPED, detail={"reason": "no_text"})
    if bot is None or not bot.enabled:
        return Decision(BotReply.Action.SKIPPED, detail={"reason": "bot_off"})
    schedule = account_schedule(bot, account_id)
    situation = Situation(
        schedule=lambda: schedule,
        first_message=lambda: first_message,
        away_sent=lambda back: False,
    )
    first_name = "Ana"  # the example customer of the preview
    decision = _answer(bot, account_id, text, situation, now=now, first_name=first_name)
    return _greeted(decision, bot, situation, first_name)


def account_schedule(bot: BotSettings, account_id: int) -> bh.Schedule | None:
    """The hours that decide "away" on an account outside any conversation: the bot's own, else
    the account's or the default (a conversation's team may have others)."""
    hours = bot.business_hours or timers.hours_for(Conversation(account_id=account_id))
    return bh.schedule_from_model(hours)


def _answer(
    bot: BotSettings,
    account_id: int,
    text: str,
    situation: Situation,
    *,
    now: datetime,
    first_name: str,
) -> Decision:
    for phrase in bot.handoff_phrases or []:
        if contains_phrase(text, phrase):
            return _handoff(bot, situation, now=now, detail={"phrase": phrase})

    for rule in Rule.objects.filter(account_id=account_id, is_active=True):
        trigger = rule_matches(rule, text)
        if trigger is not None:
            return Decision(
                BotReply.Action.RULE,
                text=rule.response,
                quick_replies=list(rule.quick_replies or []),
                detail={"rule": rule.pk, "rule_name": rule.name, "trigger": trigger},
            )

    entries = list(FaqEntry.objects.filter(account_id=account_id, is_active=True))
    match = best_faq(entries, text)
    if match is not None:
        entry, score, phrasing = match
        detail = {"faq": entry.pk, "question": entry.question, "matched": phrasing}
        detail["score"] = round(score, 1)
        if score >= bot.faq_threshold:
            return Decision(
                BotReply.Action.FAQ,
                text=entry.answer,
                quick_replies=list(entry.quick_replies or []),
                detail=detail,
                note=f"Bot answered with the FAQ “{entry.question}” "
                f"(matched “{phrasing}”, similarity {score:.0f}/100).",
            )
    else:
        detail = {}

    if bot.handoff_on_low_confidence:
        best = (
            f" Best FAQ match: “{detail['question']}” at {detail['score']:.0f}/100, below "
            f"{bot.faq_threshold}."
            if detail
            else ""
        )
        decision = _handoff(bot, situation, now=now, detail={"low_confidence": True, **detail})
        decision.note = f"Bot could not answer and handed off.{best}"
        return decision
    schedule = situation.schedule()
    if schedule is not None and not bh.is_open(schedule, now):
        return _away(bot, schedule, situation, now=now, detail=detail)
    if bot.greeting and situation.first_message():
        greeting = bot.greeting.replace("{first_name}", first_name)
        return Decision(BotReply.Action.GREETING, text=greeting, detail={"greeting": True})
    return Decision(BotReply.Action.SKIPPED, detail={"reason": "no_answer", **detail})


def _handoff(
    bot: BotSettings, situation: Situation, *, now: datetime, detail: dict[str, Any]
) -> Decision:
    """The team takes over. Outside business hours the customer learns when it is back."""
    schedule = situation.schedule()
    text = bot.handoff_message
    if schedule is not None and not bh.is_open(schedule, now) and bot.away_message:
        try:
            back = bh.next_open(schedule, now)
            text = bot.away_message.replace("{back}", back_text(schedule, back))
            detail = {**detail, "away": True, "back": back.isoformat()}
        except bh.NeverOpen:
            pass
    return Decision(BotReply.Action.HANDOFF, text=text, detail=detail, handoff=True)


def _away(
    bot: BotSettings,
    schedule: bh.Schedule,
    situation: Situation,
    *,
    now: datetime,
    detail: dict[str, Any],
) -> Decision:
    """Away once per closed period: not again while an earlier away message's 'back' is ahead."""
    try:
        back = bh.next_open(schedule, now)
    except bh.NeverOpen:
        return Decision(BotReply.Action.SKIPPED, detail={"reason": "never_open"})
    if situation.away_sent(back):
        return Decision(BotReply.Action.SKIPPED, detail={"reason": "away_already_sent"})
    text = bot.away_message.replace("{back}", back_text(schedule, back))
    return Decision(BotReply.Action.AWAY, text=text, detail={**detail, "back": back.isoformat()})


def _away_sent(conversation: Conversation, back: datetime, now: datetime) -> bool:
    """An away message of the last two weeks already promised ``back`` (or later)."""
    recent = BotReply.objects.filter(
        conversation=conversation,
        action=BotReply.Action.AWAY,
        reply__isnull=False,
        created_at__gte=now - timedelta(days=14),
    ).values_list("detail", flat=True)
    return any(d.get("back") and d["back"] >= back.isoformat() for d in recent)


def _is_first_message(message: Message, conversation: Conversation) -> bool:
    return not (
        Message.objects.filter(
            account_id=conversation.account_id,
            conversation__contact_id=conversation.contact_id,
            direction=Message.Direction.INBOUND,
        )
        .exclude(pk=message.pk)
        .filter(created_at__lte=message.created_at)
        .exists()
    )


# --- Consent and hand-off services ---------------------------------------------------------------


def set_consent(*, contact: Contact, conversation: Conversation | None, state: str, source: str):
    """Record a marketing-consent change on the contact (state, time, source), and show it in
    the conversation."""
    Contact.objects.filter(pk=contact.pk).update(
        marketing_consent=state,
        marketing_consent_at=timezone.now(),
        marketing_consent_source=source,
    )
    contact.marketing_consent = state
    if conversation is not None:
        if conversation.contact_id == contact.pk:
            conversation.contact.marketing_consent = state
        domain_events.record(
            conversation,
            ConversationEvent.Kind.CONSENT_CHANGED,
            data={"contact": contact.pk, "consent": state, "source": source},
        )


def hand_off(conversation: Conversation, *, reason: dict[str, Any], actor=None) -> None:
    """The bot stops on this conversation until given back or resolved."""
    Conversation.objects.filter(pk=conversation.pk).update(bot_enabled=False)
    conversation.bot_enabled = False
    domain_events.record(conversation, ConversationEvent.Kind.BOT_HANDOFF, actor=actor, data=reason)


def give_back(conversation: Conversation, *, actor=None) -> bool:
    """An agent hands the conversation back to the bot."""
    if conversation.bot_enabled:
        return False
    Conversation.objects.filter(pk=conversation.pk).update(bot_enabled=True)
    conversation.bot_enabled = True
    domain_events.record(conversation, ConversationEvent.Kind.BOT_RESUMED, actor=actor)
    return True


# --- The task's body --------------------------------------------------------------------------


def answer_many(message_ids: list[int], *, now: datetime | None = None) -> dict[int, str]:
    """Decide for each message, in order. Where the account has no bot running only a consent
    keyword (or a numbered option) can lead anywhere, so the other messages are passed over
    without a query or a row of their own."""
    messages = Message.objects.filter(pk__in=message_ids).values_list("pk", "account_id", "text")
    rows = {pk: (account_id, text) for pk, account_id, text in messages}
    bots = {
        b.account_id: b
        for b in BotSettings.objects.filter(account_id__in={a for a, _ in rows.values()})
    }
    outcomes: dict[int, str] = {}
    for pk in message_ids:
        if pk not in rows:
            outcomes[pk] = "missing"
            continue
        account_id, text = rows[pk]
        bot = bots.get(account_id)
        if (bot is not None and bot.enabled) or _may_be_consent(bot, normalize(text)):
            outcomes[pk] = answer(pk, now=now)
        else:
            outcomes[pk] = "bot_off"
    return outcomes


def _may_be_consent(bot: BotSettings | None, text: str) -> bool:
    keywords = ("opt_out_keywords", "opt_in_keywords")
    return text.isdigit() or any(_keyword(text, _setting(bot, name)) for name in keywords)


def answer(message_id: int, *, now: datetime | None = None) -> str:
    """Decide and (maybe) reply for one customer message. Safe to run twice: returns
    "already" when this message was handled before."""
    now = now or timezone.now()
    message = Message.objects.select_related("sender_identity").filter(pk=message_id).first()
    if message is None:
        return "missing"
    # Never a loop: only customers' messages; echoes, agents' and the bot's own are outbound.
    if message.direction != Message.Direction.INBOUND or (
        message.sender_kind != Message.SenderKind.CONTACT
    ):
        return "not_customer"
    try:
        with transaction.atomic():
            return _answer_locked(message, now=now)
    except IntegrityError:
        # Another run recorded this message's BotReply first (the unique constraint).
        return "already"


def _answer_locked(message: Message, *, now: datetime) -> str:
    # One decision at a time per conversation: the hourly cap, the greeting and the away
    # message read what earlier decisions wrote.
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("account", "contact")
        .get(pk=message.conversation_id)
    )
    if BotReply.objects.filter(message=message).exists():
        return "already"
    decision = decide(message, conversation, now=now)
    if decision.action == BotReply.Action.SKIPPED and decision.detail.get("reason") in UNRECORDED:
        # Most messages of accounts without a bot end here: no row per message for nothing.
        return decision.action
    record = BotReply(
        message=message, conversation=conversation, action=decision.action, detail=decision.detail
    )
    if decision.text:
        rules = get_connector(conversation.account.platform).rules
        options = decision.quick_replies
        text = _render_options(decision.text, options, rules.quick_replies)
        try:
            with transaction.atomic():
                record.reply = services.queue_reply(
                    conversation=conversation,
                    text=text,
                    sender_kind=Message.SenderKind.BOT,
                    quick_replies=options if rules.quick_replies else (),
                    metadata={
                        "bot": {
                            "action": decision.action,
                            "in_reply_to": message.pk,
                            "options": options,
                            **{k: v for k, v in decision.detail.items() if k != "unchanged"},
                        }
                    },
                    now=now,
                )
        except services.ReplyRefused as exc:
            log.info("bot reply to message %s refused (%s): %s", message.pk, exc.code, exc.detail)
            record.detail = {
                **record.detail,
                "intended": decision.action,
                "refused": exc.code,
                "why": exc.detail,
            }
            record.action = BotReply.Action.REFUSED
    record.save()
    if decision.handoff:
        hand_off(conversation, reason={"by": "bot", "message": message.pk, **decision.detail})
    if decision.note:
        note = Note.objects.create(
            conversation=conversation, author=None, by_bot=True, text=decision.note
        )
        domain_events.record(
            conversation, ConversationEvent.Kind.NOTE_ADDED, data={"note": note.pk, "bot": True}
        )
    return record.action
