"""Forms of the configuration pages: what each accepts, and the errors an admin or manager reads
when a value cannot be used. Saving and the audit are in ``configure``."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chatbot.models import BotSettings, FaqEntry, Rule
from inbox import saved_replies
from inbox.models import (
    Conversation,
    Label,
    PlatformAccount,
    SavedReply,
    Team,
    User,
    validate_time_zone,
)
from sla import business_hours as bh
from sla.models import BusinessHours, Holiday, SlaPolicy
from surveys.models import SurveySettings

CHECKBOXES = forms.CheckboxSelectMultiple
# Meta allows 13 quick replies of at most 20 characters each; the others number the options.
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_CHARS = 20
# The longest SLA target a form accepts (a year), so a typo cannot overflow the column.
MAX_TARGET_HOURS = 24 * 366


class LinesField(forms.CharField):
    """One value per line ↔ a list of strings."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class QuickRepliesField(LinesField):
    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > MAX_QUICK_REPLIES:
            raise forms.ValidationError(
                _("At most %(n)d quick replies.") % {"n": MAX_QUICK_REPLIES}
            )
        long = [v for v in value if len(v) > MAX_QUICK_REPLY_CHARS]
        if long:
            raise forms.ValidationError(
                _("A quick reply has at most %(n)d characters: %(values)s")
                % {"n": MAX_QUICK_REPLY_CHARS, "values": ", ".join(long)}
            )


class HoursMinutesWidget(forms.MultiWidget):
    """Two number boxes, each labelled ("h", "min") for screen readers and eyes alike."""

    def __init__(self, attrs: dict | None = None):
        super().__init__(
            [
                forms.NumberInput(attrs={"min": 0, "max": MAX_TARGET_HOURS, "class": "hours"}),
                forms.NumberInput(attrs={"min": 0, "max": 59, "class": "minutes"}),
            ],
            attrs,
        )

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer=None) -> str:
        context = self.get_context(name, value, attrs)
        hours, minutes = context["widget"]["subwidgets"]
        parts = [
            format_html(
                '<label class="inline-label">{} {}</label>',
                self.widgets[i].render(sub["name"], sub["value"], sub["attrs"], renderer),
                unit,
            )
            for i, (sub, unit) in enumerate(((hours, _("h")), (minutes, _("min"))))
        ]
        return format_html('<span class="hours-minutes">{} {}</span>', *parts)

    def decompress(self, value: Any) -> list[int | None]:
        if value in (None, ""):
            return [None, None]
        seconds = int(value)
        return [seconds // 3600, seconds % 3600 // 60]


class HoursMinutesField(forms.MultiValueField):
    """A duration typed as hours and minutes, stored as seconds (None: no target)."""

    widget = HoursMinutesWidget

    def __init__(self, **kwargs: Any):
        fields = (
            # Hours alone or minutes alone are fine: the other counts as 0.
            forms.IntegerField(min_value=0, max_value=MAX_TARGET_HOURS, required=False),
            forms.IntegerField(min_value=0, max_value=59, required=False),
        )
        super().__init__(fields, require_all_fields=False, required=False, **kwargs)

    def compress(self, values: list[int | None]) -> int | None:
        if not values or all(v in (None, "") for v in values):
            return None
        hours, minutes = (v or 0 for v in values)
        seconds = hours * 3600 + minutes * 60
        if seconds == 0:
            raise forms.ValidationError(_("A target of zero minutes can never be met."))
        return seconds


def _clean_placeholders(text: str, allowed: set[str], field: str) -> str:
    """``{name}`` placeholders other than the allowed ones are a mistake the customer would see."""
    found = set(re.findall(r"\{([^{}]*)\}", text))
    unknown = sorted(found - allowed)
    if unknown:
        raise forms.ValidationError(
            _("Unknown placeholder(s) in %(field)s: %(names)s. You can use: %(allowed)s.")
            % {
                "field": field,
                "names": ", ".join("{" + n + "}" for n in unknown),
                "allowed": ", ".join("{" + n + "}" for n in sorted(allowed)) or _("none"),
            }
        )
    return text


# --- Labels -----------------------------------------------------------------------------------


class LabelForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["name", "color"]
        widgets = {"color": forms.TextInput(attrs={"type": "color", "data-label-color": ""})}
        labels = {"name": gettext_lazy("Name"), "color": gettext_lazy("Colour")}

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("A label needs a name."))
        taken = Label.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("There is already a label “%(name)s”.") % {"name": name})
        return name


# --- Saved replies ----------------------------------------------------------------------------


class SavedReplyForm(forms.ModelForm):
    SCOPES = [
        ("everyone", gettext_lazy("Everyone")),
        ("teams", gettext_lazy("Some teams")),
        ("personal", gettext_lazy("Personal (one person)")),
    ]
    scope = forms.ChoiceField(
        choices=SCOPES, widget=forms.RadioSelect, label=gettext_lazy("Who uses it")
    )

    class Meta:
        model = SavedReply
        fields = ["shortcut", "title", "text", "scope", "teams", "owner"]
        widgets = {
            "teams": CHECKBOXES,
            "text": forms.Textarea(attrs={"rows": 5, "data-reply-text": ""}),
        }
        labels = {"owner": gettext_lazy("Person (for a personal reply)")}
        help_texts = {
            "shortcut": gettext_lazy("Typed after “/” in the composer: letters, digits, -")
        }

    def __init__(self, *args: Any, actor: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.order_by("name")
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")
        reply = self.instance
        if reply.pk is None:
            self.initial.setdefault("scope", "everyone")
        elif reply.owner_id:
            self.initial["scope"] = "personal"
        elif reply.teams.exists():
            self.initial["scope"] = "teams"
        else:
            self.initial["scope"] = "everyone"
        self.actor = actor

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        unknown = saved_replies.unknown_variables(text)
        if unknown:
            raise forms.ValidationError(
                _("Unknown variable(s): %(names)s. The variables are listed beside the form.")
                % {"names": ", ".join("{{" + n + "}}" for n in unknown)}
            )
        return text

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        scope = cleaned.get("scope")
        if scope == "teams" and not cleaned.get("teams"):
            self.add_error("teams", _("Choose the teams that use it."))
        if scope == "personal":
            # A manager's personal replies are their own; an admin may make one for anyone.
            owner = cleaned.get("owner") if self.actor.is_admin else None
            cleaned["owner"] = owner or self.actor
            cleaned["teams"] = Team.objects.none()
        else:
            cleaned["owner"] = None
            if scope == "everyone":
                cleaned["teams"] = Team.objects.none()
        return cleaned


# --- Chatbot ----------------------------------------------------------------------------------


class RuleForm(forms.ModelForm):
    quick_replies = QuickRepliesField(
        required=False,
        label=gettext_lazy("Quick replies"),
        help_text=gettext_lazy("One per line: buttons where the platform has them."),
    )

    class Meta:
        model = Rule
        fields = ["name", "match", "triggers", "response", "quick_replies", "order", "is_active"]
        widgets = {
            "triggers": forms.Textarea(attrs={"rows": 3}),
            "response": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"triggers": gettext_lazy("One keyword, phrase or pattern per line.")}


class FaqForm(forms.ModelForm):
    quick_replies = QuickRepliesField(required=False, label=gettext_lazy("Quick replies"))

    class Meta:
        model = FaqEntry
        fields = ["question", "examples", "answer", "quick_replies", "is_active"]
        widgets = {
            "examples": forms.Textarea(attrs={"rows": 3}),
            "answer": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"examples": gettext_lazy("Other ways customers ask it, one per line.")}


class BotSettingsForm(forms.ModelForm):
    class Meta:
        model = BotSettings
        fields = [
            "enabled",
            "greeting",
            "away_message",
            "business_hours",
            "handoff_message",
            "handoff_on_low_confidence",
            "faq_threshold",
            "hourly_cap",
            "offers_prompt_enabled",
            "offers_prompt",
            "offers_yes",
            "offers_no",
        ]
        widgets = {
            "greeting": forms.Textarea(attrs={"rows": 2}),
            "away_message": forms.Textarea(attrs={"rows": 2}),
            "handoff_message": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "enabled": gettext_lazy("The bot answers on this account"),
            "handoff_message": gettext_lazy("Hand-off message"),
            "handoff_on_low_confidence": gettext_lazy("Hand off when no answer is close enough"),
            "faq_threshold": gettext_lazy("FAQ threshold"),
            "hourly_cap": gettext_lazy("Bot replies per conversation per hour, at most"),
            "offers_prompt_enabled": gettext_lazy("Ask new contacts whether they want offers"),
            "offers_prompt": gettext_lazy("Offers question"),
            "offers_yes": gettext_lazy("“Yes” button"),
            "offers_no": gettext_lazy("“No” button"),
        }
        help_texts = {
            "greeting": gettext_lazy(
                "Sent before the first answer to a new contact. {first_name}: their first name."
            ),
            "away_message": gettext_lazy(
                "Sent outside business hours. {back}: when the team is back (“Monday 09:00 (UTC)”)."
            ),
            "faq_threshold": gettext_lazy(
                "Similarity (0–100) a message needs to get an FAQ answer."
            ),
            "business_hours": gettext_lazy(
                "Empty: the conversation's team's, the account's or the default hours."
            ),
            "offers_prompt_enabled": gettext_lazy(
                "Under the bot's first answer to a contact whose consent is not known, as "
                "buttons (numbered options on X). Yes records an opt-in, No an opt-out."
            ),
        }

    def clean_greeting(self) -> str:
        return _clean_placeholders(self.cleaned_data["greeting"], {"first_name"}, _("the greeting"))

    def clean_away_message(self) -> str:
        return _clean_placeholders(
            self.cleaned_data["away_message"], {"back"}, _("the away message")
        )

    def clean_handoff_message(self) -> str:
        return _clean_placeholders(
            self.cleaned_data["handoff_message"], set(), _("the hand-off message")
        )

    def clean_faq_threshold(self) -> int:
        value = self.cleaned_data["faq_threshold"]
        if not 1 <= value <= 100:
            raise forms.ValidationError(_("Between 1 and 100."))
        return value


class TryBotForm(forms.Form):
    text = forms.CharField(max_length=1000, label=gettext_lazy("A customer writes"))
    first_message = forms.BooleanField(
        required=False, label=gettext_lazy("as their very first message")
    )


# --- SLA --------------------------------------------------------------------------------------


class SlaPolicyForm(forms.ModelForm):
    first_response_seconds = HoursMinutesField(label=gettext_lazy("First response within"))
    next_response_seconds = HoursMinutesField(label=gettext_lazy("Next response within"))
    resolution_seconds = HoursMinutesField(label=gettext_lazy("Resolution within"))
    priorities = forms.TypedMultipleChoiceField(
        choices=Conversation.Priority.choices,
        coerce=int,
        required=False,
        widget=CHECKBOXES,
        label=gettext_lazy("Priorities (empty: any)"),
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "is_active",
            "order",
            "first_response_seconds",
            "next_response_seconds",
            "resolution_seconds",
            "accounts",
            "priorities",
            "labels",
            "business_hours_only",
            "business_hours",
            "warning_percent",
            "escalate_to_priority",
            "notify_managers",
            "reassign_to",
        ]
        widgets = {"accounts": CHECKBOXES, "labels": CHECKBOXES}
        labels = {
            "accounts": gettext_lazy("Accounts (empty: any)"),
            "labels": gettext_lazy("Labels (empty: any)"),
        }
        help_texts = {
            "order": gettext_lazy(
                "The first active policy (lowest order) whose conditions match applies."
            ),
            "warning_percent": gettext_lazy("Warn agents when this share of a target has passed."),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = PlatformAccount.objects.order_by("platform", "name")
        self.fields["labels"].queryset = Label.objects.order_by("name")
        self.fields["reassign_to"].queryset = User.objects.filter(is_active=True).order_by(
            "username"
        )

    def clean_warning_percent(self) -> int:
        value = self.cleaned_data["warning_percent"]
        if not 1 <= value <= 99:
            raise forms.ValidationError(_("Between 1 and 99 per cent."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        targets = ("first_response_seconds", "next_response_seconds", "resolution_seconds")
        if not self.errors and all(cleaned.get(t) is None for t in targets):
            raise forms.ValidationError(_("Give the policy at least one target."))
        if cleaned.get("business_hours") and not cleaned.get("business_hours_only"):
            self.add_error(
                "business_hours_only",
                _("Tick this to count these business hours only (or leave the hours empty)."),
            )
        return cleaned


# --- Business hours ---------------------------------------------------------------------------

DAY_LABELS = {
    "mon": gettext_lazy("Monday"),
    "tue": gettext_lazy("Tuesday"),
    "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"),
    "fri": gettext_lazy("Friday"),
    "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}
INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def intervals_text(pairs: list[list[str]]) -> str:
    return ", ".join(f"{a}–{b}" for a, b in pairs)


def parse_intervals(text: str) -> list[list[str]]:
    """ "09:00–12:00, 13:00–17:00" → [["09:00", "12:00"], ["13:00", "17:00"]]."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = INTERVAL.match(part)
        if not match:
            raise forms.ValidationError(
                _("“%(part)s” is not an interval like 09:00–17:00.") % {"part": part}
            )
        pairs.append([match.group(1).zfill(5), match.group(2).zfill(5)])
    return pairs


class BusinessHoursForm(forms.ModelForm):
    time_zone = forms.CharField(
        max_length=64,
        validators=[validate_time_zone],
        widget=forms.TextInput(attrs={"list": "time-zones"}),
        label=gettext_lazy("Time zone"),
        help_text=gettext_lazy("An IANA name, like Europe/Paris or America/New_York."),
    )

    class Meta:
        model = BusinessHours
        fields = ["name", "time_zone", "is_default", "teams", "accounts"]
        widgets = {"teams": CHECKBOXES, "accounts": CHECKBOXES}
        help_texts = {
            "is_default": gettext_lazy("Used where no team or account has its own hours."),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.order_by("name")
        self.fields["accounts"].queryset = PlatformAccount.objects.order_by("platform", "name")
        weekly = self.instance.weekly or {}
        for day, label in DAY_LABELS.items():
            self.fields[f"day_{day}"] = forms.CharField(
                required=False,
                label=label,
                initial=intervals_text(weekly.get(day) or []),
                widget=forms.TextInput(attrs={"placeholder": _("closed"), "class": "day-hours"}),
            )
            self.initial.setdefault(f"day_{day}", intervals_text(weekly.get(day) or []))

    def day_fields(self) -> list[forms.BoundField]:
        return [self[f"day_{day}"] for day in DAY_LABELS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        weekly: dict[str, list[list[str]]] = {}
        for day in DAY_LABELS:
            try:
                pairs = parse_intervals(cleaned.get(f"day_{day}") or "")
            except forms.ValidationError as exc:
                self.add_error(f"day_{day}", exc)
                continue
            if pairs:
                weekly[day] = pairs
        if not self.errors:
            try:
                bh.Schedule.from_mapping(weekly, time_zone=cleaned.get("time_zone") or "UTC")
            except (ValueError, KeyError) as exc:
                raise forms.ValidationError(str(exc)) from exc
        if cleaned.get("is_default"):
            other = BusinessHours.objects.filter(is_default=True).exclude(pk=self.instance.pk)
            if other.exists():
                self.add_error(
                    "is_default",
                    _("“%(name)s” is the default already: untick it there first.")
                    % {"name": other.first().name},
                )
        self.instance.weekly = weekly
        return cleaned


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name", "open_from", "open_until"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "open_from": forms.TimeInput(attrs={"type": "time"}),
            "open_until": forms.TimeInput(attrs={"type": "time"}),
        }
        labels = {
            "open_from": gettext_lazy("Open from (partial day)"),
            "open_until": gettext_lazy("until"),
        }
        help_texts = {"open_from": gettext_lazy("Leave both times empty for a day closed all day.")}

    def __init__(self, *args: Any, hours: BusinessHours, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.instance.hours = hours

    def clean_date(self) -> date:
        day = self.cleaned_data["date"]
        taken = Holiday.objects.filter(hours=self.instance.hours, date=day).exclude(
            pk=self.instance.pk
        )
        if taken.exists():
            raise forms.ValidationError(_("%(day)s is in the calendar already.") % {"day": day})
        return day


# --- Auto-assignment --------------------------------------------------------------------------


class AssignmentForm(forms.Form):
    auto_assign = forms.BooleanField(
        required=False, label=gettext_lazy("Assign new conversations automatically")
    )
    cap = forms.IntegerField(
        min_value=0,
        max_value=500,
        label=gettext_lazy("Open conversations per member, at most"),
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any):
        caps = team.agent_caps or {}
        excluded = set(team.auto_assign_excluded.values_list("pk", flat=True))
        self.members = list(team.members.filter(is_active=True).order_by("username"))
        initial = {"auto_assign": team.auto_assign, "cap": team.max_open_per_agent}
        for m in self.members:
            initial[f"part_{m.pk}"] = m.pk not in excluded
            initial[f"cap_{m.pk}"] = caps.get(str(m.pk))
        super().__init__(*args, initial=initial, **kwargs)
        for m in self.members:
            self.fields[f"part_{m.pk}"] = forms.BooleanField(
                required=False, label=_("%(name)s takes part") % {"name": m.display_name}
            )
            self.fields[f"cap_{m.pk}"] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=500,
                label=_("own cap of %(name)s") % {"name": m.display_name},
                widget=forms.NumberInput(attrs={"placeholder": _("team's")}),
            )

    def member_rows(self) -> list[tuple[User, forms.BoundField, forms.BoundField]]:
        return [(m, self[f"part_{m.pk}"], self[f"cap_{m.pk}"]) for m in self.members]

    def taking_part(self) -> list[User]:
        return [m for m in self.members if self.cleaned_data.get(f"part_{m.pk}")]

    def own_caps(self) -> dict[int, int]:
        return {
            m.pk: self.cleaned_data[f"cap_{m.pk}"]
            for m in self.members
            if self.cleaned_data.get(f"cap_{m.pk}") is not None
        }


# --- Surveys ----------------------------------------------------------------------------------


class SurveySettingsForm(forms.ModelForm):
    class Meta:
        model = SurveySettings
        fields = ["enabled", "question", "comment_prompt"]
        labels = {
            "enabled": gettext_lazy("Ask customers to rate the conversation when it is resolved"),
            "question": gettext_lazy("Rating question (answers 1 to 5)"),
            "comment_prompt": gettext_lazy("Then ask for a comment"),
        }
        help_texts = {"comment_prompt": gettext_lazy("Empty: no comment is asked for.")}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("enabled") and not (cleaned.get("question") or "").strip():
            self.add_error("question", _("An enabled survey needs its question."))
        return cleaned
