"""Asking for a rating when a conversation is resolved, and recording the answers. Called by
the survey listener (``surveys.listeners``) only: the inbox's services do not know surveys.

Sends go through ``inbox.services.queue_reply`` as the bot: the platform's rules apply (a Meta
window past 24 h refuses; the human-agent tag is for agents, never for surveys) and delivery
retries as for any reply. What a rule refuses is recorded on the survey, with why."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from connectors.registry import get_connector
from inbox import services
from inbox.models import Conversation, Message
from surveys.models import Survey, SurveySettings
from surveys.questions import COMMENT_MAX, parse_rating, rating_question

log = logging.getLogger(__name__)


def _send(
    conversation: Conversation,
    text: str,
    step: str,
    quick_replies: tuple[str, ...] = (),
    now: datetime | None = None,
) -> Message:
    """Queue one survey message (ReplyRefused when the platform's rules refuse it)."""
    with transaction.atomic():
        return services.queue_reply(
            conversation=conversation,
            text=text,
            sender_kind=Message.SenderKind.BOT,
            quick_replies=quick_replies,
            metadata={"survey": {"step": step}},
            now=now,
        )


def ask(
    *, conversation_id: int, resolved_by: int | None, now: datetime | None = None
) -> Survey | None:
    """Ask the customer of this just-resolved conversation for a rating, once: None when the
    account asks nothing, the conversation is no 1:1 DM, is no longer resolved, or was asked
    already. A survey the rules kept from going out is kept as ``not_sent`` with the reason
    (and tried again at a later resolve)."""
    now = now or timezone.now()
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("account", "contact")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or conversation.status != Conversation.Status.RESOLVED:
        return None
    if conversation.kind != Conversation.Kind.DM or conversation.is_test:
        # Not under a public post nor in a group: a rating is asked of one customer privately.
        return None
    settings = SurveySettings.objects.filter(account_id=conversation.account_id).first()
    if settings is None or not settings.enabled:
        return None
    survey = Survey.objects.filter(conversation=conversation).first()
    if survey is not None and survey.status != Survey.Status.NOT_SENT:
        return None  # never twice per conversation
    survey = survey or Survey(conversation=conversation)
    account = conversation.account
    survey.account = account
    survey.platform = account.platform
    survey.agent_id = conversation.assignee_id or resolved_by
    survey.team_id = conversation.team_id
    survey.asked_at = now
    question = rating_question(
        settings.question, account.platform, get_connector(account.platform).rules
    )
    try:
        survey.question = _send(conversation, question.text, "rating", question.quick_replies, now)
    except services.ReplyRefused as exc:
        log.info(
            "survey of conversation %s not sent (%s): %s", conversation.pk, exc.code, exc.detail
        )
        survey.status = Survey.Status.NOT_SENT
        survey.reason, survey.reason_detail = exc.code[:40], exc.detail[:300]
    else:
        survey.status = Survey.Status.ASKED
        survey.reason = survey.reason_detail = ""
    survey.save()
    return survey


def record_answer(*, message_id: int, now: datetime | None = None) -> Survey | None:
    """Record a customer's message that ingest recognised as a survey answer: the rating (and
    then the comment prompt, where the account has one), or the comment."""
    now = now or timezone.now()
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return None
    survey = (
        Survey.objects.select_for_update()
        .select_related("conversation__account")
        .filter(conversation_id=message.conversation_id)
        .first()
    )
    if survey is None:
        return None
    if survey.status == Survey.Status.ASKED:
        rating = parse_rating(message.text, message.metadata)
        if rating is None:
            return survey
        survey.rating, survey.rated_at = rating, message.sent_at or now
        survey.status = Survey.Status.DONE
        prompt = (
            SurveySettings.objects.filter(account_id=survey.account_id)
            .values_list("comment_prompt", flat=True)
            .first()
        ) or ""
        # Not when the customer already went on to a new question (the conversation reopened).
        if prompt.strip() and survey.conversation.status == Conversation.Status.RESOLVED:
            try:
                survey.comment_prompt = _send(survey.conversation, prompt, "comment", now=now)
                survey.status = Survey.Status.RATED
            except services.ReplyRefused as exc:
                log.info("survey comment prompt refused (%s): %s", exc.code, exc.detail)
    elif survey.status == Survey.Status.RATED:
        survey.comment = message.text.strip()[:COMMENT_MAX]
        survey.commented_at = message.sent_at or now
        survey.status = Survey.Status.DONE
    else:
        return survey
    survey.save()
    return survey


def close(*, conversation_id: int, reason: str, detail: str = "") -> int:
    """The survey no longer waits for an answer (the conversation reopened, or the question
    failed to deliver); returns how many were closed."""
    waiting = Survey.objects.filter(
        conversation_id=conversation_id, status__in=(Survey.Status.ASKED, Survey.Status.RATED)
    )
    done = waiting.filter(status=Survey.Status.RATED).update(status=Survey.Status.DONE)
    return done + waiting.filter(status=Survey.Status.ASKED).update(
        status=Survey.Status.CLOSED, reason=reason[:40], reason_detail=detail[:300]
    )


def delivery_failed(*, message_ids: list[int]) -> None:
    """A survey question the platform refused for good: nothing was asked."""
    for survey in Survey.objects.filter(question_id__in=message_ids, status=Survey.Status.ASKED):
        error = (
            Message.objects.filter(pk=survey.question_id).values_list("error", flat=True).first()
        )
        survey.status = Survey.Status.NOT_SENT
        survey.reason = "delivery_failed"
        survey.reason_detail = (error or "")[:300]
        survey.save(update_fields=["status", "reason", "reason_detail"])
