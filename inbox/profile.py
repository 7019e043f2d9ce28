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
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from inbox import availability
from inbox.models import User, time_zone_names


class ProfileForm(forms.Form):
    availability = forms.ChoiceField(choices=User.Availability.choices, widget=forms.RadioSelect)
    time_zone = forms.ChoiceField(
        required=False,
        help_text="Snooze times (“Tomorrow 9:00”) and the times on your pages use it.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        minutes = settings.AVAILABILITY_REQUEUE_MINUTES
        away = " Away: no new ones either"
        if minutes > 0:
            away += f", and your open ones go back to the queue after {minutes} minutes"
        self.fields[
            "availability"
        ].help_text = f"Busy: you keep your conversations and get no new ones.{away}."
        self.fields["time_zone"].choices = [
            ("", f"The organisation's ({settings.TIME_ZONE})"),
            *((name, name) for name in sorted(time_zone_names())),
        ]


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"availability": user.availability, "time_zone": user.time_zone}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                availability.set_availability(
                    user=user, availability=form.cleaned_data["availability"]
                )
                availability.set_time_zone(user=user, time_zone=form.cleaned_data["time_zone"])
        except (ValueError, ValidationError) as error:
            form.add_error(None, str(error))
        else:
            flash.success(request, "Profile saved.")
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
