"""Which of a customer's new messages answer a survey (registered with ``inbox.answers`` by
``surveys.apps``): ingest stores those without reopening the conversation, and the survey
listener records them (``surveys.services.record_answer``)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from inbox.answers import Inbound
from surveys.models import Survey
from surveys.questions import parse_rating

NAME = "survey"
# After this long without an answer a "5" is an ordinary message again (it reopens).
ANSWER_TIME = timedelta(hours=48)


def classify(items: list[Inbound]) -> list[str | None]:
    """``NAME`` for each message that is the rating (a survey waits for one and the message is
    1–5) or the comment (the comment prompt went out and the message has text); None for the
    rest. Within one batch, what follows a rating or a message that is neither was written
    before any prompt: an ordinary message (the conversation reopens)."""
    surveys = {
        s.conversation_id: s
        for s in Survey.objects.filter(
            conversation_id__in={item.conversation.pk for item in items},
            status__in=(Survey.Status.ASKED, Survey.Status.RATED),
        )
    }
    if not surveys:
        return [None] * len(items)
    now = timezone.now()
    state = {
        pk: s.status
        for pk, s in surveys.items()
        if now - (s.rated_at if s.status == Survey.Status.RATED else s.asked_at) <= ANSWER_TIME
    }
    found: list[str | None] = []
    for item in items:
        status = state.pop(item.conversation.pk, None)
        rating = status == Survey.Status.ASKED and parse_rating(item.text, item.metadata)
        comment = status == Survey.Status.RATED and item.text.strip()
        found.append(NAME if rating or comment else None)
    return found
