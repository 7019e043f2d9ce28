"""The settings page of outbound webhooks (admins): subscribe, pause, delete, see deliveries
and replay. Thin: a form in, one service call."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inbox.settings_area.views import admin_required
from outbound_webhooks import services
from outbound_webhooks.forms import SubscriptionForm
from outbound_webhooks.models import Attempt, Delivery, Subscription

DELIVERIES_SHOWN = 100


@admin_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.subscribe(
                url=form.cleaned_data["url"], events=form.cleaned_data["events"], actor=request.user
            )
        except services.SubscriptionRefused as refused:
            form.add_error("url", refused.detail)
        else:
            # Rendered, not redirected: the secret is shown this once and never again.
            created.secret_once = secret
            form = SubscriptionForm()
    subscriptions = Subscription.objects.order_by("id")
    return render(
        request,
        "settings/outbound_webhooks.html",
        {"form": form, "subscriptions": subscriptions, "created": created},
        status=422 if request.method == "POST" and created is None else 200,
    )


@admin_required
@require_POST
def subscription_active(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    active = request.POST.get("active") == "1"
    services.set_active(subscription=subscription, active=active, actor=request.user)
    done = _("Deliveries to %(url)s resumed.") if active else _("Deliveries to %(url)s paused.")
    messages.success(request, done % {"url": subscription.url})
    return redirect("outbound_webhooks:list")


@admin_required
@require_POST
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    url = subscription.url
    services.delete(subscription=subscription, actor=request.user)
    messages.success(request, _("Webhook to %(url)s deleted.") % {"url": url})
    return redirect("outbound_webhooks:list")


@admin_required
def subscription_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    deliveries = (
        Delivery.objects.filter(subscription=subscription)
        .order_by("-id")
        .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.order_by("-id")))[
            :DELIVERIES_SHOWN
        ]
    )
    return render(
        request,
        "settings/outbound_webhook_deliveries.html",
        {"subscription": subscription, "deliveries": deliveries},
    )


@admin_required
@require_POST
def delivery_replay(request: HttpRequest, pk: int, delivery: str) -> HttpResponse:
    found = get_object_or_404(Delivery, subscription_id=pk, uuid=delivery)
    services.replay(delivery=found, actor=request.user)
    messages.success(request, _("Delivery %(id)s sent again.") % {"id": found.uuid})
    return redirect("outbound_webhooks:deliveries", pk=pk)
