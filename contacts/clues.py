"""Clues in what customers write that may identify them on another platform: email addresses,
phone numbers, websites, and "I also wrote to you on Instagram (as @name)". A listener stores
them (``ContactClue``) as messages arrive; the merge suggestions read them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction

from contacts.models import ContactClue
from inbox.events import DomainEvent, MessageReceived
from inbox.models import Message, Platform

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}\b")
# Seven or more digits, with the separators people type (+33 6 12 34 56 78, (555) 010-9999).
PHONE = re.compile(r"(?<![\w@])\+?\(?\d[\d\s().-]{5,20}\d\b")
WEBSITE = re.compile(
    r"\b(?:https?://)?(?:www\.)?([a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,24})(?:/[^\s]*)?",
    re.I,
)
PLATFORM_WORDS = {
    "instagram": Platform.INSTAGRAM,
    "insta": Platform.INSTAGRAM,
    "ig": Platform.INSTAGRAM,
    "messenger": Platform.MESSENGER,
    "facebook": Platform.MESSENGER,
    "twitter": Platform.X,
    "x": Platform.X,
    "linkedin": Platform.LINKEDIN,
}
# "I also wrote on Instagram", "I messaged you on twitter as @jo_b", "also DMed you on IG (@jo)".
ELSEWHERE = re.compile(
    r"\balso\s+(?:wrote|write|writing|messaged|message|dm'?e?d|contacted|sent)\b[^.!?\n]{0,30}?"
    r"\bon\s+(instagram|insta|ig|messenger|facebook|twitter|x|linkedin)\b"
    r"(?:[^.!?\n@]{0,20}@([A-Za-z0-9_.]{2,30}))?",
    re.I,
)
# Mail providers are not websites: "gmail.com" says nothing about who someone is.
NOT_WEBSITES = {"gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "icloud.com"}
MAX_CLUES = 20


def extract(text: str) -> list[tuple[str, str]]:
    """(kind, normalized value) pairs found in a message, at most ``MAX_CLUES``."""
    if not text:
        return []
    text = text[:5000]
    found: list[tuple[str, str]] = []
    emails = [e.lower() for e in EMAIL.findall(text)]
    found += [(ContactClue.Kind.EMAIL, e) for e in emails]
    for match in PHONE.findall(text):
        digits = re.sub(r"\D", "", match)
        if 7 <= len(digits) <= 15:
            found.append((ContactClue.Kind.PHONE, digits))
    without_emails = EMAIL.sub(" ", text)
    for domain in WEBSITE.findall(without_emails):
        domain = domain.lower().removeprefix("www.")
        if domain not in NOT_WEBSITES and not domain.replace(".", "").isdigit():
            found.append((ContactClue.Kind.WEBSITE, domain))
    for word, username in ELSEWHERE.findall(text):
        platform = PLATFORM_WORDS[word.lower()]
        value = f"{platform}:{username.lower().rstrip('.')}" if username else str(platform)
        found.append((ContactClue.Kind.ELSEWHERE, value))
    unique = list(dict.fromkeys((k, v[:200]) for k, v in found))
    return unique[:MAX_CLUES]


def store(messages: Iterable[Message]) -> int:
    """Store the clues of these customer messages (again is harmless: unique per message)."""
    rows = [
        ContactClue(conversation_id=m.conversation_id, message_id=m.pk, kind=kind, value=value)
        for m in messages
        for kind, value in extract(m.text)
    ]
    ContactClue.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def on_events(events: list[DomainEvent]) -> None:
    """The clues listener (``inbox.listeners``): customers' new messages."""
    ids = [e.message_id for e in events if isinstance(e, MessageReceived) and not e.is_system]
    if not ids:
        return
    with transaction.atomic():
        store(
            Message.objects.filter(
                pk__in=ids, sender_kind=Message.SenderKind.CONTACT, is_deleted=False
            ).only("pk", "conversation_id", "text")
        )
