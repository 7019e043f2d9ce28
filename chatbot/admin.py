from django.contrib import admin

from chatbot.models import BotReply, BotSettings, FaqEntry, Rule


@admin.register(BotSettings)
class BotSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "enabled",
        "faq_threshold",
        "hourly_cap",
        "handoff_on_low_confidence",
    )
    list_filter = ("enabled",)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "match", "order", "is_active")
    list_filter = ("account", "match", "is_active")
    search_fields = ("name", "triggers", "response")


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ("question", "account", "is_active")
    list_filter = ("account", "is_active")
    search_fields = ("question", "examples", "answer")


@admin.register(BotReply)
class BotReplyAdmin(admin.ModelAdmin):
    """The bot's decisions, read-only: why it answered, handed off or stayed quiet."""

    list_display = ("message", "conversation", "action", "reply", "created_at")
    list_filter = ("action",)
    raw_id_fields = ("message", "conversation", "reply")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
