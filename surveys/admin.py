from django.contrib import admin

from surveys.models import Survey, SurveySettings


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    """For superusers; admins use /settings/surveys/."""

    list_display = ("account", "enabled", "question", "updated_at")
    list_filter = ("enabled",)


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    """Each conversation's survey, for superusers (managers read the CSAT report)."""

    list_display = ("conversation", "platform", "status", "rating", "asked_at", "agent")
    list_filter = ("status", "platform", "rating")
    raw_id_fields = ("conversation", "question", "comment_prompt", "agent")
    readonly_fields = ("rating", "rated_at", "comment", "commented_at")
