"""What a satisfaction survey asks, per platform account."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from inbox.models import PlatformAccount


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
