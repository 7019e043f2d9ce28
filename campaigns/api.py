"""REST API for campaigns (``/api/v1/campaigns/``): a public contract, exactly as issue 18
writes it. Managers and admins only (403 for others); a campaign on an account the caller may
not see is 404; a rule refusal is 422 ``{code, detail}``."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import audience, report, selectors, services
from campaigns.models import Campaign


class IsManager(BasePermission):
    message = "Only managers and admins may use campaigns."

    def has_permission(self, request: Request, view) -> bool:
        return selectors.may_use(request.user)


def refused(code: str, detail: str) -> Response:
    return Response({"code": code, "detail": detail}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def campaign_json(campaign: Campaign, *, with_recipients: bool = True) -> dict[str, Any]:
    rows = report.rows(campaign) if with_recipients else []
    totals = report.summary(rows)
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "account": campaign.account_id,
        "text": campaign.text,
        "audience": campaign.audience,
        "promotional": campaign.promotional,
        "send_at": _iso(campaign.send_at),
        "status": campaign.status,
        "created_at": _iso(campaign.created_at),
        "started_at": _iso(campaign.started_at),
        "finished_at": _iso(campaign.finished_at),
        "counts": totals.counts,
        "reply_rate": totals.reply_rate,
        "opt_out_rate": totals.opt_out_rate,
        "recipients": [
            {
                "contact": r.recipient.contact_id,
                "status": r.status,
                "reason": r.reason or None,
                "detail": r.detail or None,
            }
            for r in rows
        ],
    }


def _send_at(value: Any):
    if value in (None, ""):
        return None
    when = parse_datetime(value) if isinstance(value, str) else None
    if when is None:
        raise ValidationError({"send_at": "an ISO 8601 date and time"})
    return timezone.make_aware(when) if timezone.is_naive(when) else when


class CampaignList(APIView):
    """The caller's campaigns (newest first); ``POST`` creates a draft."""

    permission_classes = [*APIView.permission_classes, IsManager]

    def get(self, request: Request) -> Response:
        campaigns = selectors.visible_campaigns(request.user)[:100]
        return Response({"results": [campaign_json(c, with_recipients=False) for c in campaigns]})

    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise ValidationError({"detail": "a JSON object"})
        for key in ("name", "text"):
            if not isinstance(data.get(key), str):
                raise ValidationError({key: "required text"})
        account_id = data.get("account")
        if not isinstance(account_id, int) or isinstance(account_id, bool):
            raise ValidationError({"account": "an account id"})
        account = selectors.accounts(request.user).filter(pk=account_id).first()
        if account is None:
            raise ValidationError({"account": "no such account"})
        promotional = data.get("promotional", True)
        if promotional is not True:
            # Campaigns are promotions: consent is what makes them allowed at all.
            return refused(
                "promotional_only",
                "Campaigns send promotional messages only (to opted-in contacts).",
            )
        try:
            campaign = services.create(
                name=data["name"],
                account=account,
                text=data["text"],
                audience_filters=data.get("audience"),
                promotional=True,
                send_at=_send_at(data.get("send_at")),
                actor=request.user,
            )
        except audience.InvalidAudience as invalid:
            raise ValidationError({invalid.field: invalid.detail}) from None
        return Response(campaign_json(campaign), status=status.HTTP_201_CREATED)


class CampaignDetail(APIView):
    """Its status, totals and per-recipient rows ``{"contact", "status", "reason"}``."""

    permission_classes = [*APIView.permission_classes, IsManager]

    def get(self, request: Request, pk: int) -> Response:
        return Response(campaign_json(selectors.get_visible_campaign(request.user, pk)))


class CampaignPreview(APIView):
    """Every recipient of the audience as planned now: ``{"contact", "eligible", "reason"}``."""

    permission_classes = [*APIView.permission_classes, IsManager]

    def post(self, request: Request, pk: int) -> Response:
        campaign = selectors.get_visible_campaign(request.user, pk)
        return Response(
            {
                "recipients": [
                    {
                        "contact": contact.pk,
                        "eligible": verdict.eligible,
                        "reason": verdict.reason or None,
                        "detail": verdict.detail or None,
                    }
                    for contact, verdict in services.preview(campaign)
                ]
            }
        )


class CampaignAction(APIView):
    """``send`` (202: it goes at its ``send_at`` or now, at the platform's rate), ``pause``,
    ``resume``."""

    permission_classes = [*APIView.permission_classes, IsManager]
    action = "send"

    def post(self, request: Request, pk: int) -> Response:
        campaign = selectors.get_visible_campaign(request.user, pk)
        act = {"send": services.start, "pause": services.pause, "resume": services.resume}
        try:
            campaign = act[self.action](campaign=campaign, actor=request.user)
        except services.CampaignRefused as refusal:
            return refused(refusal.code, refusal.detail)
        return Response(
            {"id": campaign.pk, "status": campaign.status}, status=status.HTTP_202_ACCEPTED
        )
