"""Which of a customer's new messages answer a survey (registered with ``inbox.answers`` by
``surveys.apps``): ingest stores those without reopening the conversation, and the survey
listener records them (``surveys.services.record_answer``)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from inbox.answers import Inbound
from surveys.models import Survey, SurveySettings
from surveys.questions import parse_rating

NAME = "survey"
# After this long without an answer a "5" is an ordinary message again (it reopens).
ANSWER_TIME = timedelta(hours=48)


def classify(items: list[Inbound]) -> list[str | None]:
    """``NAME`` for each message that is the rating (a survey waits for one and the message is
    1–5) or the comment (the comment prompt went out, or goes out after a rating in this same
    batch, and the message has text); None for the rest. A message that is neither ends the
    waiting for the rest of the batch: the customer moved on, and the conversation reopens."""
    surveys = {
        s.conversation_id: s
        for s in Survey.objects.filter(
            conversation_id__in={item.conversation.pk for item in items},
            status__in=(Survey.Status.ASKED, Survey.Status.RATED),
        )
    }
    if not surveys:
        return [None] * len(items)
    prompts = dict(
        SurveySettings.objects.filter(
            account_id__in={s.account_id for s in surveys.values()}
        ).values_list("account_id", "comment_prompt")
    )
    now = timezone.now()
    state = {
        pk: s.status
        for pk, s in surveys.items()
        if now - (s.rated_at if s.status == Survey.Status.RATED else s.asked_at) <= ANSWER_TIME
    }
    found: list[str | None] = []
    for item in items:
        pk = item.conversation.pk
        status = state.get(pk)
        name = None
        if status == Survey.Status.ASKED and parse_rating(item.text, item.metadata):
            name = NAME
            prompt = (prompts.get(surveys[pk].account_id) or "").strip()
            state[pk] = Survey.Status.RATED if prompt else Survey.Status.DONE
        elif status == Survey.Status.RATED and item.text.strip():
            name = NAME
            state[pk] = Survey.Status.DONE
        else:
            state.pop(pk, None)
        found.append(name)
    return found
