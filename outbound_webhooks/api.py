"""REST API of outbound webhooks (admins): ``/api/v1/webhooks/``."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.serializers import RefusalSerializer
from inbox.api.views import Pagination
from inbox.settings_area.api import IsAdmin
from outbound_webhooks import services
from outbound_webhooks.models import Attempt, Delivery, Subscription
from outbound_webhooks.serializers import (
    CreatedSubscriptionSerializer,
    DeliverySerializer,
    SubscriptionInputSerializer,
    SubscriptionSerializer,
)


class DeliveryPagination(Pagination):
    ordering = ("-id",)


class SubscriptionList(APIView):
    """Every subscription; POST ``{"url", "events"}`` makes one and shows its secret once."""

    permission_classes = [IsAuthenticated, IsAdmin]

    @extend_schema(responses=SubscriptionSerializer(many=True))
    def get(self, request):
        rows = Subscription.objects.order_by("id")
        return Response({"results": SubscriptionSerializer(rows, many=True).data})

    @extend_schema(
        request=SubscriptionInputSerializer,
        responses={201: CreatedSubscriptionSerializer, 422: RefusalSerializer},
    )
    def post(self, request):
        data = SubscriptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            subscription, secret = services.subscribe(
                url=data.validated_data["url"],
                events=data.validated_data["events"],
                actor=request.user,
            )
        except services.SubscriptionRefused as refused:
            return Response(
                {"code": refused.code, "detail": refused.detail},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        body = {**SubscriptionSerializer(subscription).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class SubscriptionDetail(APIView):
    """One subscription; PATCH ``{"active": false}`` pauses it, DELETE removes it."""

    permission_classes = [IsAuthenticated, IsAdmin]

    @extend_schema(responses=SubscriptionSerializer)
    def get(self, request, pk: int):
        return Response(SubscriptionSerializer(get_object_or_404(Subscription, pk=pk)).data)

    @extend_schema(request=SubscriptionSerializer, responses=SubscriptionSerializer)
    def patch(self, request, pk: int):
        subscription = get_object_or_404(Subscription, pk=pk)
        active = request.data.get("active") if isinstance(request.data, dict) else None
        if not isinstance(active, bool):
            return Response(
                {"code": "invalid_active", "detail": _("active must be true or false.")},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        services.set_active(subscription=subscription, active=active, actor=request.user)
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.delete(subscription=get_object_or_404(Subscription, pk=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryList(generics.ListAPIView):
    """A subscription's deliveries, newest first, each with its latest attempts."""

    permission_classes = [IsAuthenticated, IsAdmin]
    serializer_class = DeliverySerializer
    pagination_class = DeliveryPagination

    def get_queryset(self):
        subscription = get_object_or_404(Subscription, pk=self.kwargs["pk"])
        return Delivery.objects.filter(subscription=subscription).prefetch_related(
            Prefetch("attempt_log", queryset=Attempt.objects.order_by("-id"))
        )


class DeliveryReplay(APIView):
    """Send a delivery again (the same id and body, 24 hours of retries again)."""

    permission_classes = [IsAuthenticated, IsAdmin]

    @extend_schema(request=None, responses={202: DeliverySerializer})
    def post(self, request, pk: int, delivery: str):
        found = get_object_or_404(Delivery, subscription_id=pk, uuid=delivery)
        replayed = services.replay(delivery=found, actor=request.user)
        return Response(DeliverySerializer(replayed).data, status=status.HTTP_202_ACCEPTED)
