"""The settings area's history import: start or stop an account's import and read its progress
(the account page's progress bar asks for it while the import runs)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from inbox import history
from inbox.models import PlatformAccount
from inbox.settings_area.views import admin_required
from inbox.tasks import start_history_import


@admin_required
@require_http_methods(["GET", "POST"])
def account_history(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the latest import's progress as JSON. POST: import the account's history now."""
    account = get_object_or_404(PlatformAccount, pk=pk)
    if request.method == "GET":
        job = history.latest(account)
        return JsonResponse({"import": as_json(history.progress(job)) if job else None})
    try:
        start_history_import(account=account, actor=request.user)
    except history.ImportRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Importing the account's recent history."))
    return redirect("settings:account", pk=pk)


@admin_required
@require_POST
def account_history_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PlatformAccount, pk=pk)
    job = history.latest(account)
    if job is not None:
        history.cancel(job=job, actor=request.user)
    return redirect("settings:account", pk=pk)


def as_json(progress: history.Progress) -> dict:
    return {
        "status": progress.status,
        "status_label": progress.status_label,
        "pages": progress.pages,
        "items": progress.items,
        "stored": progress.stored,
        "fraction": progress.fraction,
        "eta_seconds": progress.eta_seconds,
        "error": progress.error,
        "not_before": progress.not_before.isoformat() if progress.not_before else None,
        "active": progress.active,
        "summary": progress.summary,
        "percent": round(progress.fraction * 100),
    }
