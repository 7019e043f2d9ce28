"""The chatbot's configuration per platform account (edited at /settings/chatbot/) and its log.

The decision logic is in ``chatbot.engine``; it runs in Celery (``chatbot.tasks``) after each
new customer message and answers through ``inbox.services.queue_reply(sender_kind="bot")``.
"""

from __future__ import annotations

import regex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Conversation, Message, PlatformAccount
from sla.models import BusinessHours

# Defaults: several languages; an admin can change every list per account.
DEFAULT_HANDOFF_PHRASES = [
    "agent",
    "human",
    "talk to someone",
    "speak to someone",
    "real person",
    "representative",
    "operator",
    "humain",
    "conseiller",
    "parler à quelqu'un",
    "humano",
    "persona real",
    "hablar con alguien",
    "mitarbeiter",
    "mensch",
    "mit jemandem sprechen",
    # Portuguese (Brazil), a language the interface ships in (docs/i18n.md).
    "atendente",
    "pessoa real",
    "falar com alguém",
]
DEFAULT_OPT_OUT = [
    "stop",
    "unsubscribe",
    "unsub",
    "opt out",
    "opt-out",
    "stopp",
    "arrêt",
    "arret",
    "désabonner",
    "desabonner",
    "baja",
    "darse de baja",
    "cancelar",
    "abmelden",
    "abbestellen",
    "parar",
    "sair",
    "descadastrar",
]
DEFAULT_OPT_IN = [
    "start",
    "join",
    "subscribe",
    "unstop",
    "opt in",
    "opt-in",
    "abonner",
    "s'abonner",
    "rejoindre",
    "alta",
    "suscribir",
    "unirme",
    "unirse",
    "anmelden",
    "abonnieren",
    "assinar",
    "beitreten",
    "participar",
    "inscrever",
    "aderir",
]


def _handoff_phrases() -> list[str]:
    return list(DEFAULT_HANDOFF_PHRASES)


def _opt_out() -> list[str]:
    return list(DEFAULT_OPT_OUT)


def _opt_in() -> list[str]:
    return list(DEFAULT_OPT_IN)


class BotSettings(models.Model):
    """The bot of one platform account. Without a row (or disabled) the bot does not answer;
    opt-in and opt-out keywords are honoured on every account all the same."""

    account = models.OneToOneField(
        PlatformAccount, on_delete=models.CASCADE, related_name="bot_settings"
    )
    enabled = models.BooleanField(default=True)
    # Sent with the answer to a contact's very first message. {first_name} is filled in.
    greeting = models.TextField(blank=True)
    # Sent outside business hours when the bot hands off; {back} becomes "Monday 09:00 (CET)".
    away_message = models.TextField(
        blank=True,
        default="Thanks for your message! Our team is away right now and back {back}. "
        "We'll answer you then.",
    )
    # Whose hours decide "away"; empty: the team's, the account's, or the default hours.
    business_hours = models.ForeignKey(
        BusinessHours, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # FAQ similarity (0–100, chatbot.engine.similarity) needed to answer.
    faq_threshold = models.PositiveSmallIntegerField(default=80)
    handoff_phrases = models.JSONField(default=_handoff_phrases, blank=True)
    handoff_message = models.TextField(
        blank=True,
        default="I'm passing you to a member of our team; they will answer here shortly.",
    )
    # A message the bot cannot answer hands the conversation to the team.
    handoff_on_low_confidence = models.BooleanField(default=True)
    # Bot replies per conversation per hour, at most.
    hourly_cap = models.PositiveSmallIntegerField(default=5)
    # Whole-message keywords (case and trailing punctuation ignored).
    opt_out_keywords = models.JSONField(default=_opt_out, blank=True)
    opt_in_keywords = models.JSONField(default=_opt_in, blank=True)
    opt_out_confirmation = models.TextField(
        blank=True,
        default="You won't receive promotional messages from us any more. Reply START to "
        "subscribe again.",
    )
    opt_in_confirmation = models.TextField(
        blank=True,
        default="You're subscribed to our news and offers. Reply STOP to unsubscribe.",
    )
    # "Want exclusive offers? Yes / No": asked with the bot's first answer to a contact whose
    # consent is not known yet, as quick-reply buttons (numbered options on X). A tap (or the
    # option's number) records the consent like a keyword.
    offers_prompt_enabled = models.BooleanField(default=False)
    offers_prompt = models.CharField(max_length=300, blank=True, default="Want exclusive offers?")
    offers_yes = models.CharField(max_length=20, blank=True, default="Yes")
    offers_no = models.CharField(max_length=20, blank=True, default="No")

    class Meta:
        verbose_name = "bot settings"
        verbose_name_plural = "bot settings"

    def __str__(self) -> str:
        return f"Bot of {self.account}"


class Rule(models.Model):
    """A trigger and its answer. Rules are tried in ``order``; the first that matches answers."""

    class Match(models.TextChoices):
        KEYWORD = "keyword", _("Any of these words")
        PHRASE = "phrase", _("Any of these phrases")
        REGEX = "regex", _("Regular expression")

    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    match = models.CharField(max_length=8, choices=Match.choices, default=Match.KEYWORD)
    # One keyword, phrase or pattern per line; case-insensitive.
    triggers = models.TextField()
    response = models.TextField()
    # Buttons where the platform has quick replies, numbered options elsewhere.
    quick_replies = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    def trigger_list(self) -> list[str]:
        return [line.strip() for line in self.triggers.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.match == self.Match.REGEX:
            for pattern in self.trigger_list():
                try:
                    regex.compile(pattern)
                except regex.error as exc:
                    raise ValidationError({"triggers": f"{pattern!r}: {exc}"})
        if not isinstance(self.quick_replies, list):
            raise ValidationError({"quick_replies": "a list of button titles"})


class FaqEntry(models.Model):
    """A frequently asked question: matched by similarity to the question and its examples."""

    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    question = models.CharField(max_length=300)
    # Other ways customers ask it, one per line.
    examples = models.TextField(blank=True)
    answer = models.TextField()
    quick_replies = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question

    def phrasings(self) -> list[str]:
        return [self.question] + [
            line.strip() for line in self.examples.splitlines() if line.strip()
        ]


class BotReply(models.Model):
    """What the bot decided for one customer message: at most one per message (the unique
    ``message`` makes a retried or duplicated task send nothing twice)."""

    class Action(models.TextChoices):
        RULE = "rule", _("Rule")
        FAQ = "faq", _("FAQ answer")
        GREETING = "greeting", _("Greeting")
        AWAY = "away", _("Away message")
        HANDOFF = "handoff", _("Handed off")
        OPT_OUT = "opt_out", _("Opted out")
        OPT_IN = "opt_in", _("Opted in")
        SKIPPED = "skipped", _("Not answered")
        REFUSED = "refused", _("Reply refused by platform rules")

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="bot_reply")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    reply = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Why: the rule or FAQ matched and its score, the skip reason, the refusal.
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "bot replies"
        indexes = [
            # The hourly cap and "away already sent": a conversation's recent bot decisions.
            models.Index(fields=["conversation", "created_at"], name="botreply_conv_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} for message {self.message_id}"
