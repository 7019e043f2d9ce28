"""Pages' endpoints for notifications: the preferences form and the "test" button on
``/profile/``, and the note composer's ``@mention`` autocomplete. Thin: rules in services."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from inbox.access import get_visible_conversation
from inbox.models import Team
from notifications import mentions, services


class PreferencesForm(forms.Form):
    browser = forms.BooleanField(
        required=False,
        label=gettext_lazy("Browser notifications while Parley is in the background"),
    )
    sound = forms.BooleanField(required=False, label=gettext_lazy("Play a sound"))
    email = forms.BooleanField(
        required=False,
        label=gettext_lazy("Email me mentions and SLA breaches while I am offline (a digest)"),
    )
    watched_teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Notify me of new conversations in these queues"),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["watched_teams"].queryset = services.watchable_teams(user)


def preferences_form(user, data=None) -> PreferencesForm:
    prefs = services.preferences(user)
    initial = {"browser": prefs.browser, "sound": prefs.sound, "email": prefs.email}
    initial["watched_teams"] = list(prefs.watched_teams.all()) if prefs.pk else []
    return PreferencesForm(data, user=user, initial=initial)


@login_required
@require_POST
def save_preferences(request: HttpRequest) -> HttpResponse:
    form = preferences_form(request.user, request.POST)
    if form.is_valid():
        services.set_preferences(user=request.user, **form.cleaned_data)
        flash.success(request, _("Notification preferences saved."))
    else:
        flash.error(
            request,
            _("Notification preferences not saved: %(errors)s")
            % {"errors": "; ".join(str(e) for errors in form.errors.values() for e in errors)},
        )
    return redirect("inbox:profile")


@login_required
@require_POST
def send_test(request: HttpRequest) -> HttpResponse:
    """The "test" button: a real notification to the bell (and browser and sound). The page's
    script posts it with fetch and stays; without script, back to the profile."""
    notification = services.send_test(user=request.user)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"id": notification.pk})
    flash.success(request, _("A test notification was sent."))
    return redirect("inbox:profile")


@login_required
@require_GET
def mentionable(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """Teammates who may see this conversation (404 for one the caller may not see)."""
    conversation = get_visible_conversation(request.user, conversation_id)
    users = mentions.mentionable(conversation, request.GET.get("q", ""), exclude=request.user)
    return JsonResponse(
        {"results": [{"username": u.username, "name": u.display_name} for u in users]}
    )
