from django.contrib import admin

from surveys.models import SurveySettings


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    """For superusers; admins use /settings/surveys/."""

    list_display = ("account", "enabled", "question", "updated_at")
    list_filter = ("enabled",)
