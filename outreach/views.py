"""The outreach pages (``/outreach/``): managers and admins, on the accounts they may see."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from inbox.access import visible_accounts
from outreach import services
from outreach.models import OutreachList
from reports.views import manager_required


def _visible_lists(request: HttpRequest):
    return OutreachList.objects.filter(account__in=visible_accounts(request.user)).select_related(
        "account", "owner", "label"
    )


def _visible_list(request: HttpRequest, pk: int) -> OutreachList:
    found = _visible_lists(request).filter(pk=pk).first()
    if found is None:
        raise Http404("No such outreach list")
    return found


@require_http_methods(["GET", "POST"])
@manager_required
def outreach_lists(request: HttpRequest) -> HttpResponse:
    accounts = visible_accounts(request.user).order_by("platform", "name")
    form = {"follow_up_days": "3"}
    error = ""
    if request.method == "POST":
        form = request.POST
        account_id = form.get("account", "")
        account = accounts.filter(pk=int(account_id)).first() if account_id.isdigit() else None
        try:
            if account is None:
                raise services.OutreachError("no_account", _("Choose an account."))
            days = form.get("follow_up_days", "3")
            outreach = services.create_list(
                name=form.get("name", ""),
                account=account,
                owner=request.user,
                first_message=form.get("first_message", ""),
                handles=services.parse_handles(form.get("handles", "")),
                as_group=bool(form.get("as_group")),
                follow_up_days=int(days) if days.isdigit() else -1,
            )
        except services.OutreachError as refused:
            error = refused.detail
        else:
            return redirect("outreach:detail", pk=outreach.pk)
    return render(
        request,
        "outreach/lists.html",
        {
            "lists": _visible_lists(request),
            "accounts": accounts,
            "form": form,
            "error": error,
        },
        status=422 if error else 200,
    )


@require_http_methods(["GET"])
@manager_required
def outreach_detail(request: HttpRequest, pk: int) -> HttpResponse:
    outreach = _visible_list(request, pk)
    plans = services.plan(outreach)
    return render(
        request,
        "outreach/detail.html",
        {
            "outreach": outreach,
            "plans": plans,
            "limit": services.batch_limit(outreach),
            "pending": sum(1 for p in plans if p.recipient.status == "pending"),
            "replied": sum(1 for p in plans if p.recipient.replied_at),
        },
    )


@require_POST
@manager_required
def outreach_send(request: HttpRequest, pk: int) -> HttpResponse:
    outreach = _visible_list(request, pk)
    try:
        summary = services.send_list(outreach=outreach, actor=request.user)
    except services.OutreachError as refused:
        flash.error(request, refused.detail)
    else:
        text = _("Sent: %(sent)s. Refused: %(refused)s. Public-comment path: %(public)s.") % {
            "sent": summary.sent,
            "refused": summary.refused,
            "public": summary.public,
        }
        if summary.left:
            text += " " + _(
                "%(left)s more wait: %(platform)s allows at most %(limit)s recipients at once; "
                "send again for the next ones."
            ) % {
                "left": summary.left,
                "platform": outreach.account.get_platform_display(),
                "limit": services.batch_limit(outreach),
            }
        flash.success(request, text)
    return redirect("outreach:detail", pk=outreach.pk)
