"""Forms of the settings area. Credential fields are write-only: rendered empty, never filled
with what is stored."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox.models import Platform, PlatformAccount, Team, User, WebhookEvent
from inbox.settings_area.accounts import CREDENTIAL_FIELDS, platform_available


def _secret_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Write-only: leave empty to keep what is stored."),
    )


class CredentialsForm(forms.Form):
    def __init__(self, *args, platform: str, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in CREDENTIAL_FIELDS.get(platform, ()):
            self.fields[f"cred_{key}"] = _secret_field(label)

    def credentials(self) -> dict[str, str]:
        return {
            name.removeprefix("cred_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("cred_") and value
        }


class ManualAccountForm(CredentialsForm):
    platform = forms.ChoiceField(choices=())
    external_id = forms.CharField(
        max_length=200,
        label=gettext_lazy("Platform id"),
        help_text=gettext_lazy(
            "Page id, Instagram account id, X user id, LinkedIn organisation URN."
        ),
    )
    name = forms.CharField(max_length=200)
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Teams whose members see this account's conversations."),
    )

    field_order = ["platform", "external_id", "name", "teams"]

    def __init__(self, *args, platform: str, **kwargs):
        super().__init__(*args, platform=platform, **kwargs)
        self.fields["platform"].choices = [
            (value, label) for value, label in Platform.choices if platform_available(value)
        ]
        self.fields["platform"].initial = platform

    def describe_secrets_for_new_account(self) -> None:
        for name, field in self.fields.items():
            if name.startswith("cred_"):
                field.help_text = _("Stored encrypted; never shown again once saved.")


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.AGENT)
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            # Checked against the user to be (a password like their name is refused).
            someone = User(
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                validate_password(password, someone)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class UserEditForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=User.Role.choices)
    password = forms.CharField(
        required=False,
        label=gettext_lazy("New password"),
        help_text=gettext_lazy(
            "Leave empty to keep it. Setting one ends the user's other sessions."
        ),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if password:
            validate_password(password, self.user)
        return password


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    accounts = forms.ModelMultipleChoiceField(
        queryset=PlatformAccount.objects.order_by("platform", "name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Members of this team see these accounts' conversations."),
    )


class ArchiveFilterForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("", "Any outcome"), *WebhookEvent.Outcome.choices], required=False
    )
    since = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    before = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"), required=False, empty_label="Anyone"
    )
    action = forms.CharField(
        required=False, help_text=gettext_lazy("e.g. account., user.deactivated")
    )
    target_type = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Anything"),
            ("platformaccount", "Accounts"),
            ("user", "Users"),
            ("team", "Teams"),
            ("bot_rule", "Bot rules"),
            ("bot_faq", gettext_lazy("FAQ entries")),
            ("bot_settings", gettext_lazy("Bot settings")),
            ("label", gettext_lazy("Labels")),
            ("saved_reply", gettext_lazy("Saved replies")),
            ("sla_policy", "SLA policies"),
            ("business_hours", gettext_lazy("Business hours")),
            ("survey_settings", gettext_lazy("Survey settings")),
            ("conversation", "Conversations"),
            ("webhook", "Webhooks"),
        ],
    )
    since = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    text = forms.CharField(required=False, label=gettext_lazy("Target contains"))
