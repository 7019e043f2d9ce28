"""The campaigns pages (``/campaigns/``): the list, a new campaign, one campaign with its
eligibility preview (a draft) or its report (once started), send, pause and resume. Managers
and admins only; thin: reads through ``campaigns.selectors``, writes through
``campaigns.services``."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import audience, report, selectors, services
from contacts import selectors as contact_selectors
from contacts.models import AttributeDefinition
from inbox.models import Label, Platform

# Rows shown on the page (the API gives every one).
PAGE_ROWS = 500


def _managers_only(request: HttpRequest) -> HttpResponse | None:
    if not selectors.may_use(request.user):
        return HttpResponseForbidden(_("Only managers and admins may use campaigns."))
    return None


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    if (denied := _managers_only(request)) is not None:
        return denied
    return render(
        request,
        "campaigns/list.html",
        {"campaigns": selectors.visible_campaigns(request.user)[:200]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    if (denied := _managers_only(request)) is not None:
        return denied
    accounts = selectors.accounts(request.user)
    form = request.POST if request.method == "POST" else {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        account = accounts.filter(pk=_int(request.POST.get("account"))).first()
        filters: dict = {}
        if labels := request.POST.getlist("labels"):
            filters["labels"] = labels
        if platform := request.POST.get("platform"):
            filters["platform"] = platform
        key, value = request.POST.get("attr", ""), request.POST.get("attr_value", "")
        if key:
            filters["attributes"] = {key: contact_selectors.typed_value(key, value)}
        send_at = None
        if raw := request.POST.get("send_at", ""):
            send_at = parse_datetime(raw)
            if send_at is None:
                errors["send_at"] = _("A date and time.")
            elif timezone.is_naive(send_at):
                send_at = timezone.make_aware(send_at)
        if account is None:
            errors["account"] = _("Choose an account.")
        if not errors:
            try:
                campaign = services.create(
                    name=request.POST.get("name", ""),
                    account=account,
                    text=request.POST.get("text", ""),
                    audience_filters=filters,
                    send_at=send_at,
                    media=request.FILES.get("media"),
                    actor=request.user,
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                )
            except audience.InvalidAudience as invalid:
                errors[invalid.field] = invalid.detail
            else:
                return redirect("campaigns:detail", pk=campaign.pk)
    return render(
        request,
        "campaigns/new.html",
        {
            "accounts": accounts,
            "labels": Label.objects.order_by("name"),
            "platforms": Platform.choices,
            "definitions": AttributeDefinition.objects.all(),
            "form": form,
            "chosen_labels": request.POST.getlist("labels") if request.method == "POST" else [],
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if (denied := _managers_only(request)) is not None:
        return denied
    campaign = selectors.get_visible_campaign(request.user, pk)
    context: dict = {"campaign": campaign, "page_rows": PAGE_ROWS}
    if campaign.started_at is None:
        # Not planned yet (a draft, or scheduled): who would receive it now, and why not.
        preview = services.preview(campaign)
        context["preview"] = preview[:PAGE_ROWS]
        context["eligible_count"] = sum(1 for _c, v in preview if v.eligible)
        context["left_out"] = Counter(v.detail for _c, v in preview if not v.eligible).most_common()
        context["audience_count"] = len(preview)
    else:
        rows = report.rows(campaign)
        context["rows"] = rows[:PAGE_ROWS]
        context["summary"] = report.summary(rows)
        context["total"] = len(rows)
    return render(request, "campaigns/detail.html", context)


@login_required
@require_POST
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if (denied := _managers_only(request)) is not None:
        return denied
    act = {"send": services.start, "pause": services.pause, "resume": services.resume}
    if action not in act:
        raise Http404("No such action.")
    campaign = selectors.get_visible_campaign(request.user, pk)
    try:
        campaign = act[action](campaign=campaign, actor=request.user)
    except services.CampaignRefused as refusal:
        flash.error(request, refusal.detail)
    else:
        flash.success(
            request,
            {
                "send": _("Campaign started."),
                "pause": _("Campaign paused."),
                "resume": _("Campaign resumed."),
            }[action],
        )
    return redirect("campaigns:detail", pk=campaign.pk)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
