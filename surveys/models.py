"""What a satisfaction survey asks, per platform account, and each conversation's survey."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Conversation, Message, PlatformAccount, Team, User


class SurveySettings(models.Model):
    """One account's survey: asked when a conversation is resolved (where the platform's reply
    window allows), a rating then an optional comment. Without a row nothing is asked."""

    account = models.OneToOneField(
        PlatformAccount, on_delete=models.CASCADE, related_name="survey_settings"
    )
    enabled = models.BooleanField(default=False)
    # The rating question; the answers are 1–5 (buttons where the platform has quick replies,
    # numbered options elsewhere).
    question = models.CharField(
        max_length=300, default=_("How would you rate the help you received?")
    )
    # Asked after the rating; empty: no comment is asked for.
    comment_prompt = models.CharField(
        max_length=300, blank=True, default=_("Anything you would like to add?")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "survey settings"
        verbose_name_plural = "survey settings"

    def __str__(self) -> str:
        return f"Survey of {self.account}"


class Survey(models.Model):
    """The survey of one conversation: at most one per conversation, so a customer is never
    asked twice (a survey the window kept from being sent may be tried at a later resolve).
    Who and where are copied at the time of asking: the reports group by them."""

    class Status(models.TextChoices):
        # Not sent (the window, a disconnected account...): ``reason`` says why.
        NOT_SENT = "not_sent", _("Not sent")
        # The rating question is out; the customer's next 1–5 is the rating.
        ASKED = "asked", _("Asked")
        # Rated; the comment prompt is out and the customer's next message is the comment.
        RATED = "rated", _("Rated")
        # Rated, and commented or no comment asked for.
        DONE = "done", _("Done")
        # Asked, but the customer wrote something else (the conversation reopened) or the
        # question failed to deliver: no rating will be taken.
        CLOSED = "closed", _("Closed without a rating")

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="survey"
    )
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16)
    # The conversation's assignee when it was resolved, else who resolved it.
    agent = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices)
    # Why it was not sent or was closed: the policy's code and its sentence.
    reason = models.CharField(max_length=40, blank=True)
    reason_detail = models.CharField(max_length=300, blank=True)
    # When the question was sent (or last refused): the reports' period reads it.
    asked_at = models.DateTimeField(default=timezone.now)
    question = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    commented_at = models.DateTimeField(null=True, blank=True)
    comment_prompt = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            # The CSAT report: surveys asked in a period (then filtered by account, team...).
            models.Index(fields=["asked_at"], name="survey_asked_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="survey_rating_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"Survey of conversation {self.conversation_id}: {self.status}"

    @property
    def awaiting(self) -> bool:
        return self.status in (self.Status.ASKED, self.Status.RATED)
