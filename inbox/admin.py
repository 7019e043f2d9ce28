from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from inbox import ingest
from inbox.models import (
    Contact,
    ContactIdentity,
    Conversation,
    Label,
    PlatformAccount,
    SavedReply,
    Team,
    User,
    WebhookEvent,
)
from inbox.settings_area import people


@admin.register(User)
class ParleyUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "teams")
    fieldsets = (*UserAdmin.fieldsets, ("Parley", {"fields": ("role",)}))


class PlatformAccountForm(forms.ModelForm):
    new_credentials = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="KEY=VALUE per line. Stored encrypted and never shown again; "
        "keys you leave out keep their current value.",
    )

    class Meta:
        model = PlatformAccount
        fields = ("platform", "name", "external_id", "options", "status", "last_error")

    def clean_new_credentials(self) -> dict[str, str]:
        parsed = {}
        for line in self.cleaned_data["new_credentials"].splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"Not KEY=VALUE: {key.strip()[:20]}…")
            parsed[key.strip()] = value.strip()
        return parsed

    def save(self, commit=True):
        account = super().save(commit=False)
        account.credentials = {
            **(account.credentials or {}),
            **self.cleaned_data["new_credentials"],
        }
        if commit:
            account.save()
        return account


@admin.register(PlatformAccount)
class PlatformAccountAdmin(admin.ModelAdmin):
    form = PlatformAccountForm
    list_display = ("name", "platform", "external_id", "status", "last_event_at", "credential_keys")
    list_filter = ("platform", "status")
    search_fields = ("name", "external_id")

    @admin.display(description="credentials set")
    def credential_keys(self, account: PlatformAccount) -> str:
        return ", ".join(sorted(account.credentials)) or "—"


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Members and accounts change through the settings area's services, so a change made here
    closes the affected sockets and is audited exactly as one made at /settings/teams/."""

    filter_horizontal = ("members", "accounts")
    list_display = ("name", "auto_assign", "max_open_per_agent")
    # Kept by inbox.assignment's round-robin.
    readonly_fields = ("last_auto_assignee",)

    def save_related(self, request, form, formsets, change):
        team = form.instance
        people.update_team(
            actor=request.user,
            team=team,
            name=team.name,
            members=form.cleaned_data["members"],
            accounts=form.cleaned_data["accounts"],
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        people.delete_team(actor=request.user, team=obj)

    def delete_queryset(self, request, queryset):
        for team in queryset:
            people.delete_team(actor=request.user, team=team)


admin.site.register(Label)


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    list_display = ("shortcut", "title")
    filter_horizontal = ("teams",)


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    fk_name = "contact"
    extra = 0
    readonly_fields = ("account", "platform_user_id", "username", "name", "first_contact")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "marketing_consent", "created_at")
    search_fields = ("name", "identities__username")
    inlines = [IdentityInline]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("pk", "account", "contact", "status", "assignee", "last_activity_at")
    list_filter = ("status", "account")
    raw_id_fields = ("contact", "origin", "assignee")
    filter_horizontal = ("labels",)
    exclude = ("participants",)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("pk", "source", "account", "outcome", "signature_valid", "received_at", "error")
    list_filter = ("source", "outcome", "signature_valid")
    date_hierarchy = "received_at"
    readonly_fields = (
        "source",
        "account",
        "headers",
        "body_text",
        "body_size",
        "body_sha256",
        "signature_valid",
        "signed_for",
        "outcome",
        "error",
        "received_at",
        "processed_at",
        "attempts",
    )
    exclude = ("body",)
    actions = ["replay"]

    @admin.display(description="body")
    def body_text(self, webhook: WebhookEvent) -> str:
        return bytes(webhook.body).decode("utf-8", errors="replace")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Replay: process the stored body again")
    def replay(self, request, queryset):
        outcomes = ingest.replay(queryset.values_list("pk", flat=True))
        summary = ", ".join(f"#{pk}: {outcome}" for pk, outcome in outcomes.items())
        self.message_user(request, f"Replayed {len(outcomes)}: {summary}", messages.INFO)
