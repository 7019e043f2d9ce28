"""Admin pages for business hours and SLA policies."""

from django.contrib import admin

from sla.models import BusinessHours, Holiday, SlaPolicy, SlaRecord


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "is_default")
    filter_horizontal = ("teams", "accounts")
    inlines = [HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "order",
        "is_active",
        "first_response_seconds",
        "next_response_seconds",
        "resolution_seconds",
        "business_hours_only",
    )
    list_filter = ("is_active", "business_hours_only")
    filter_horizontal = ("accounts", "labels")


@admin.register(SlaRecord)
class SlaRecordAdmin(admin.ModelAdmin):
    list_display = ("conversation", "target", "level", "due_at", "recorded_at")
    list_filter = ("level", "target")
    raw_id_fields = ("conversation", "event")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
