"""The agent's own profile page (``/profile/``): availability and time zone. Thin views; the
rules are in ``inbox.availability``."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language_info, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from inbox import availability, preferences
from inbox.models import User, time_zone_names


class ProfileForm(forms.Form):
    availability = forms.ChoiceField(
        label=gettext_lazy("Availability"),
        choices=User.Availability.choices,
        widget=forms.RadioSelect,
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy(
            "Snooze times (“Tomorrow 9:00”) and the times on your pages use it."
        ),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        help_text=gettext_lazy("The language of Parley's pages for you."),
    )

    def __init__(self, *args, browser_language: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        minutes = settings.AVAILABILITY_REQUEUE_MINUTES
        busy = _("Busy: you keep your conversations and get no new ones.")
        if minutes > 0:
            away = ngettext(
                "Away: no new ones either, and your open ones go back to the queue after "
                "%(minutes)d minute.",
                "Away: no new ones either, and your open ones go back to the queue after "
                "%(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
        else:
            away = _("Away: no new ones either.")
        self.fields["availability"].help_text = f"{busy} {away}"
        self.fields["time_zone"].choices = [
            ("", _("The organisation's (%(zone)s)") % {"zone": settings.TIME_ZONE}),
            *((name, name) for name in sorted(time_zone_names())),
        ]
        browser = get_language_info(browser_language)["name_local"] if browser_language else ""
        self.fields["language"].choices = [
            ("", _("Your browser's (%(language)s)") % {"language": browser}),
            # Each language in its own name, so anyone can find theirs in any interface.
            *settings.LANGUAGES,
        ]


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {
        "availability": user.availability,
        "time_zone": user.time_zone,
        "language": user.language,
    }
    browser = translation.get_language_from_request(request)
    form = ProfileForm(request.POST or None, initial=initial, browser_language=browser)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                availability.set_availability(
                    user=user, availability=form.cleaned_data["availability"]
                )
                availability.set_time_zone(user=user, time_zone=form.cleaned_data["time_zone"])
                preferences.set_language(user=user, language=form.cleaned_data["language"])
        except (ValueError, ValidationError) as error:
            form.add_error(None, error if isinstance(error, ValidationError) else str(error))
        else:
            # The message is read on the next page: in the language just chosen.
            with translation.override(user.language or browser):
                flash.success(request, _("Profile saved."))
            return redirect("inbox:profile")
    return render(request, "inbox/profile.html", {"form": form})


@login_required
@require_POST
def set_availability(request: HttpRequest) -> HttpResponse:
    """The control in the navigation bar: htmx swaps it in place; without htmx, back to the
    page it was used on."""
    try:
        availability.set_availability(
            user=request.user, availability=request.POST.get("availability", "")
        )
    except ValueError as error:
        if request.htmx:
            return HttpResponseBadRequest(str(error))
        flash.error(request, str(error))
    if request.htmx:
        return render(request, "inbox/_availability_control.html")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/profile/"
    return redirect(back)


@login_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch in the top bar: the same choice as on /profile/."""
    try:
        preferences.set_language(user=request.user, language=request.POST.get("language", ""))
    except ValidationError as error:
        flash.error(request, "; ".join(error.messages))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/profile/"
    return redirect(back)
