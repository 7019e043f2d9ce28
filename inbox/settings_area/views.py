"""Settings pages (admins only; everyone else gets 403). Thin: forms in, one service call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from connectors import testevents
from inbox import csv_export, history, twofactor
from inbox.models import PlatformAccount, Team, User, WebhookEvent
from inbox.settings_area import accounts as account_actions
from inbox.settings_area import audit, health, oauth, people
from inbox.settings_area.forms import (
    ArchiveFilterForm,
    AuditFilterForm,
    CredentialsForm,
    ManualAccountForm,
    TeamForm,
    UserCreateForm,
    UserEditForm,
)

ARCHIVE_PAGE = 50
ARCHIVE_PREVIEW = 4000
AUDIT_PAGE = 100


def admin_required(view: Callable) -> Callable:
    """Logged in (else the login page) and an admin (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_admin:
            raise PermissionDenied(gettext("Only admins may change settings."))
        return view(request, *args, **kwargs)

    return wrapped


def base_url(request: HttpRequest) -> str:
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")


# --- accounts ---------------------------------------------------------------------------------


@admin_required
def account_list(request: HttpRequest) -> HttpResponse:
    return render(request, "settings/accounts.html", {"healths": health.accounts_health()})


@admin_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PlatformAccount, pk=pk)
    return render(
        request,
        "settings/account_detail.html",
        {
            "account": account,
            "health": health.account_health(account),
            "setup": account_actions.webhook_setup(account, base_url(request)),
            "credentials_form": CredentialsForm(platform=account.platform),
            "teams": account.teams.order_by("name"),
            "recent": account_actions.archive(account=account)[:5],
            "connector_installed": account_actions.platform_available(account.platform),
            "reconnect_provider": oauth.PROVIDER_FOR_PLATFORM.get(account.platform),
            "history_import": history.latest_progress(account),
            "imports_history": history.available(account),
            "reconnect_why_not": (
                oauth.unavailable_reason(oauth.PROVIDER_FOR_PLATFORM[account.platform])
                if account.platform in oauth.PROVIDER_FOR_PLATFORM
                else ""
            ),
        },
    )


@admin_required
@require_POST
def account_check(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PlatformAccount, pk=pk)
    result = account_actions.check_connection(actor=request.user, account=account)
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("settings:account", pk=pk)


@admin_required
@require_POST
def account_test_event(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PlatformAccount, pk=pk)
    try:
        archived = account_actions.send_test_event(actor=request.user, account=account)
    except account_actions.ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Test event sent through the webhook (delivery #{archived.pk}). "
            "It appears in the inbox as a message from the test sender "
            f"“{testevents.TEST_SENDER_NAME}”, marked as a test: agents' lists leave it out, "
            "and it starts no SLA clock or bot reply.",
        )
    return redirect("settings:account", pk=pk)


@sensitive_post_parameters()
@admin_required
@require_POST
def account_credentials(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PlatformAccount, pk=pk)
    form = CredentialsForm(request.POST, platform=account.platform)
    if form.is_valid():
        try:
            changed = account_actions.update_credentials(
                actor=request.user, account=account, credentials=form.credentials()
            )
        except account_actions.ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            if changed:
                messages.success(
                    request, gettext("Saved: %(fields)s.") % {"fields": ", ".join(changed)}
                )
            else:
                messages.info(
                    request, gettext("Nothing entered; the stored credentials are unchanged.")
                )
    return redirect("settings:account", pk=pk)


@admin_required
@require_POST
def account_disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PlatformAccount, pk=pk)
    account_actions.disconnect(actor=request.user, account=account)
    messages.success(
        request,
        gettext("%(account)s is disconnected. Its conversations are kept.") % {"account": account},
    )
    return redirect("settings:account", pk=pk)


@admin_required
def account_webhooks(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PlatformAccount, pk=pk)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        if request.POST.get("all_failed"):
            ids = list(
                account_actions.archive(
                    account=account, outcome=WebhookEvent.Outcome.FAILED
                ).values_list("id", flat=True)[: account_actions.MAX_REPLAY]
            )
        try:
            outcomes = account_actions.replay(actor=request.user, account=account, ids=ids)
        except account_actions.ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _replay_summary(outcomes))
        return redirect(request.get_full_path())
    form = ArchiveFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = list(
        account_actions.archive(
            account=account,
            outcome=filters.get("outcome") or "",
            since=filters.get("since"),
            until=filters.get("until"),
            before_id=filters.get("before"),
        )[: ARCHIVE_PAGE + 1]
    )
    more = len(events) > ARCHIVE_PAGE
    events = events[:ARCHIVE_PAGE]
    _add_previews(events)
    query = request.GET.copy()
    if more:
        query["before"] = str(events[-1].pk)
    return render(
        request,
        "settings/webhooks.html",
        {
            "account": account,
            "form": form,
            "events": events,
            "next_query": query.urlencode() if more else "",
        },
    )


def _replay_summary(outcomes: dict[int, str]) -> str:
    summary = Counter(outcomes.values())
    return "Replayed: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(summary.items()))


def _add_previews(events: list[WebhookEvent]) -> None:
    for event in events:
        raw = bytes(event.body)
        # A rejected body keeps its first KB only: its size is the one it arrived with.
        event.size = event.body_size if event.body_size is not None else len(raw)
        # The body as text for reading; bodies hold no credentials (headers are not shown).
        event.preview = raw[:ARCHIVE_PREVIEW].decode("utf-8", errors="replace")


@admin_required
def failed_webhooks(request: HttpRequest) -> HttpResponse:
    """Every failed delivery, those linked to no account included, for a replay."""
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        try:
            outcomes = account_actions.replay_failed(actor=request.user, ids=ids)
        except account_actions.ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _replay_summary(outcomes))
        return redirect(request.get_full_path())
    before = request.GET.get("before", "")
    events = list(
        account_actions.failed_deliveries(before_id=int(before) if before.isdigit() else None)[
            : ARCHIVE_PAGE + 1
        ]
    )
    more = len(events) > ARCHIVE_PAGE
    events = events[:ARCHIVE_PAGE]
    _add_previews(events)
    return render(
        request,
        "settings/failed_webhooks.html",
        {
            "events": events,
            "next_query": f"before={events[-1].pk}" if more else "",
            "kept_days": settings.WEBHOOK_ARCHIVE_FAILED_DAYS,
        },
    )


@sensitive_post_parameters()
@admin_required
def connect(request: HttpRequest) -> HttpResponse:
    platform = request.POST.get("platform") or request.GET.get("platform") or "sandbox"
    if request.method == "POST":
        form = ManualAccountForm(request.POST, platform=platform)
        if form.is_valid():
            data = form.cleaned_data
            try:
                account = account_actions.save_manual(
                    actor=request.user,
                    platform=data["platform"],
                    external_id=data["external_id"].strip(),
                    name=data["name"].strip(),
                    credentials=form.credentials(),
                    teams=list(data["teams"]),
                )
            except account_actions.ActionRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, gettext("%(account)s is connected.") % {"account": account}
                )
                return redirect("settings:account", pk=account.pk)
    else:
        form = ManualAccountForm(platform=platform)
    # Not "leave empty to keep what is stored": there is nothing stored yet.
    form.describe_secrets_for_new_account()
    providers = [
        {
            "key": key,
            "label": oauth.PROVIDER_LABELS[key],
            "configured": oauth.configured(key),
            "why_not": oauth.unavailable_reason(key),
        }
        for key in oauth.PROVIDERS
    ]
    return render(
        request,
        "settings/connect.html",
        {"form": form, "providers": providers, "platform": platform},
    )


# --- OAuth ------------------------------------------------------------------------------------


def _redirect_uri(request: HttpRequest, provider: str) -> str:
    path = reverse("settings:oauth_callback", args=[provider])
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


@admin_required
@require_POST
def oauth_start(request: HttpRequest, provider: str) -> HttpResponse:
    try:
        url = oauth.start(
            user=request.user, provider=provider, redirect_uri=_redirect_uri(request, provider)
        )
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("settings:connect")
    return redirect(url)


@admin_required
def oauth_callback(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in oauth.PROVIDERS:
        raise PermissionDenied(gettext("Unknown provider."))
    try:
        row = oauth.complete_callback(
            user=request.user, provider=provider, params=request.GET.dict()
        )
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        # The code and state stay out of the next URL and of the page.
        return redirect("settings:connect")
    return redirect("settings:oauth_choose", pk=row.pk)


@admin_required
def oauth_choose(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        row = oauth.pending(user=request.user, pk=pk)
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("settings:connect")
    if request.method == "POST":
        teams = list(Team.objects.filter(pk__in=request.POST.getlist("teams")))
        try:
            connected = oauth.finish(
                user=request.user,
                pk=row.pk,
                key=request.POST.get("choice", ""),
                include_instagram=bool(request.POST.get("instagram")),
                teams=[t.name for t in teams],
            )
        except oauth.OAuthError as exc:
            messages.error(request, str(exc))
            return redirect("settings:connect")
        messages.success(request, "Connected: " + ", ".join(str(a) for a in connected))
        return redirect("settings:account", pk=connected[0].pk)
    return render(
        request,
        "settings/choose.html",
        {
            "row": row,
            "label": oauth.PROVIDER_LABELS[row.provider],
            "teams": Team.objects.order_by("name"),
        },
    )


# --- people -----------------------------------------------------------------------------------


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.prefetch_related("teams").order_by("-is_active", "username")
    return render(request, "settings/users.html", {"users": users})


@sensitive_post_parameters()
@admin_required
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = people.create_user(
                actor=request.user,
                username=data["username"].strip(),
                role=data["role"],
                password=data["password"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                teams=data["teams"],
            )
        except people.PeopleError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, gettext("%(username)s can now sign in.") % {"username": user.username}
            )
            return redirect("settings:users")
    return render(request, "settings/user_form.html", {"form": form, "creating": True})


@sensitive_post_parameters()
@admin_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": User.Role.ADMIN if user.is_admin else user.role,
        "teams": list(user.teams.all()),
    }
    form = UserEditForm(request.POST or None, initial=initial, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            people.update_user(
                actor=request.user,
                user=user,
                role=data["role"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                teams=data["teams"],
                password=data["password"],
            )
        except people.PeopleError as exc:
            form.add_error(None, str(exc))
        else:
            if data["password"] and user.pk == request.user.pk:
                # A new password ends every session; keep this one, as a self-change does.
                update_session_auth_hash(request, User.objects.get(pk=user.pk))
            messages.success(request, gettext("%(username)s saved.") % {"username": user.username})
            return redirect("settings:users")
    return render(
        request,
        "settings/user_form.html",
        {
            "form": form,
            "creating": False,
            "subject": user,
            "two_factor": twofactor.is_enabled(user),
        },
    )


@admin_required
@require_POST
def user_two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    twofactor.reset(actor=request.user, user=user)
    messages.success(
        request,
        f"{user.username} logs in with their password alone until they "
        "set up two-factor authentication again.",
    )
    return redirect("settings:user", pk=user.pk)


@admin_required
@require_POST
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        people.set_active(actor=request.user, user=user, active=active)
    except people.PeopleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"{user.username} is {'active again' if active else 'deactivated: signed out everywhere'}.",
        )
    return redirect("settings:users")


@admin_required
def team_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            team = people.create_team(actor=request.user, name=request.POST.get("name", ""))
        except people.PeopleError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("settings:team", pk=team.pk)
    teams = Team.objects.prefetch_related("members", "accounts").order_by("name")
    return render(request, "settings/teams.html", {"teams": teams})


@admin_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk)
    initial = {
        "name": team.name,
        "members": list(team.members.all()),
        "accounts": list(team.accounts.all()),
    }
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            people.update_team(
                actor=request.user,
                team=team,
                name=data["name"],
                members=data["members"],
                accounts=data["accounts"],
            )
        except people.PeopleError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("Team %(name)s saved.") % {"name": data["name"]})
            return redirect("settings:teams")
    return render(request, "settings/team_form.html", {"form": form, "team": team})


@admin_required
@require_POST
def team_delete(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk)
    people.delete_team(actor=request.user, team=team)
    messages.success(request, gettext("Team %(name)s deleted.") % {"name": team.name})
    return redirect("settings:teams")


# --- audit ------------------------------------------------------------------------------------


def _audit_entries(request: HttpRequest):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit.search(
        actor_id=filters["actor"].pk if filters.get("actor") else None,
        action=filters.get("action") or "",
        target_type=filters.get("target_type") or "",
        since=filters.get("since"),
        until=filters.get("until"),
        text=filters.get("text") or "",
    )
    return form, entries


@admin_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form, entries = _audit_entries(request)
    before = request.GET.get("before")
    if before and before.isdigit():
        entries = entries.filter(id__lt=int(before))
    page = list(entries[: AUDIT_PAGE + 1])
    more = len(page) > AUDIT_PAGE
    page = page[:AUDIT_PAGE]
    query = request.GET.copy()
    if more:
        query["before"] = str(page[-1].pk)
    export = request.GET.copy()
    export.pop("before", None)
    return render(
        request,
        "settings/audit.html",
        {
            "form": form,
            "entries": [(e, audit.describe(e)) for e in page],
            "next_query": query.urlencode() if more else "",
            "export_query": export.urlencode(),
        },
        # A filter value that is not one of its choices is named by the form, not ignored.
        status=400 if form.errors else 200,
    )


@admin_required
def audit_csv(request: HttpRequest) -> HttpResponse:
    form, entries = _audit_entries(request)
    if form.errors:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return csv_export.csv_response(
        f"parley-audit-{stamp}.csv", audit.CSV_COLUMNS, audit.csv_rows(entries)
    )


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Admins start at the accounts; managers at the pages they edit; agents get 403."""
    if request.user.is_admin:
        return redirect("settings:accounts")
    if request.user.is_manager:
        return redirect("settings:labels")
    raise PermissionDenied("Only managers and admins may change settings.")
