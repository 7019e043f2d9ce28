"""Signing in and the user's own security page: password, then a second factor when the user
has one; changing one's password; turning two-factor authentication on and off.

A user with two-factor authentication is not logged in by a right password: the session only
remembers who is halfway (``PENDING``) until a code is given, so no half-authenticated session
ever reaches a page, the API or the live socket. Django admin's login page sends people here,
so every way in asks for the same factors and is throttled the same (django-axes).
"""

from __future__ import annotations

import time
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from inbox import twofactor
from inbox.settings_area import audit

# Session key of a login waiting for its second factor: user id, backend, next URL, since when.
PENDING = "parley_pending_login"
# A password step stays good for this long while the code is typed.
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    template_name = "inbox/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: forms.Form) -> HttpResponse:
        user = form.get_user()
        if not twofactor.is_enabled(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return redirect("inbox:login-code")


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label=gettext_lazy("Code"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


def _pending_user(request: HttpRequest) -> tuple[Any, dict] | tuple[None, None]:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending) if user else (None, None)


@sensitive_post_parameters("code")
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app or a recovery code."""
    user, pending = _pending_user(request)
    if user is None:
        return redirect("inbox:login")
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return locked_out(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.verify(user, form.cleaned_data["code"]):
            del request.session[PENDING]
            login(request, user, backend=pending["backend"])
            return redirect(pending["next"])
        # Counted with the failed passwords: the username and address lock out alike.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        form.add_error(
            "code",
            "That code is not right, or was already used. Wait a moment, then try the next one.",
        )
    return render(request, "inbox/login_code.html", {"form": form}, status=200)


def locked_out(request: HttpRequest) -> HttpResponse:
    context = {"cooloff_timedelta": settings.AXES_COOLOFF_TIME}
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)


def admin_login(request: HttpRequest) -> HttpResponse:
    """Django admin's login: the same two steps as everyone (no way around the second factor)."""
    next_url = request.GET.get("next", "/admin/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "/admin/"
    return redirect(f"{reverse('inbox:login')}?{urlencode({'next': next_url})}")


# --- the user's own security page ---------------------------------------------------------


@login_required
def account_security(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        "enabled": twofactor.is_enabled(user),
        "required": twofactor.is_required(user),
        "recovery_left": twofactor.recovery_codes_left(user),
        "code_form": CodeForm(),
    }
    if not context["enabled"]:
        device = twofactor.pending_device(user)
        context.update(secret=twofactor.secret_of(device), qr=twofactor.qr_svg(device))
    return render(request, "inbox/account_security.html", context)


@login_required
@require_POST
@sensitive_post_parameters("code")
def two_factor_enable(request: HttpRequest) -> HttpResponse:
    codes = twofactor.confirm(user=request.user, code=request.POST.get("code", "").strip())
    if codes is None:
        messages.error(
            request, gettext("That code is not right. Check the app's clock and try again.")
        )
        return redirect("inbox:account-security")
    return render(request, "inbox/recovery_codes.html", {"codes": codes})


@login_required
@require_POST
@sensitive_post_parameters("code")
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    if not twofactor.verify(request.user, request.POST.get("code", "")):
        messages.error(request, gettext("Turning it off needs a current code."))
        return redirect("inbox:account-security")
    twofactor.turn_off(user=request.user)
    messages.success(request, gettext("Two-factor authentication is off."))
    return redirect("inbox:account-security")


@login_required
@sensitive_post_parameters()
def password_change(request: HttpRequest) -> HttpResponse:
    """The user's own change: validated by every password validator; every other session, API
    token and socket of theirs ends (settings_area.signals.password_set), this session stays."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        audit.record(actor=user, action="user.password_changed", target=user)
        messages.success(request, gettext("Password changed. You are signed out everywhere else."))
        return redirect("inbox:account-security")
    return render(request, "inbox/password_change.html", {"form": form})
