"""REST: ``GET /api/v1/notifications/`` (the caller's own, newest first, keyset-paginated,
``?unread=1``, ``?after=ID`` for catch-up) and ``POST /api/v1/notifications/read/``
(``{"ids": [..]}`` or ``{"all": true}``). Nobody reads or marks another user's notifications:
the queryset is the caller's, and others' ids are ignored."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.views import Pagination
from notifications import services
from notifications.models import Notification

# One mark-read call names at most this many ids (a page of the list is at most 200).
MAX_IDS = 500


class NotificationSerializer(serializers.ModelSerializer):
    conversation = serializers.IntegerField(
        source="conversation_id", read_only=True, allow_null=True
    )
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "conversation", "actor", "created_at", "read", "read_at"]

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class ReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=MAX_IDS
    )
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if not data.get("all") and not data.get("ids"):
            raise serializers.ValidationError('Give "ids" (a list) or "all": true.')
        return data


class NotificationPagination(Pagination):
    ordering = ("-id",)


def _flag(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "yes"}


@extend_schema(
    parameters=[
        OpenApiParameter("unread", bool, description="only unread notifications"),
        OpenApiParameter("after", int, description="only notifications after this id (catch-up)"),
    ]
)
class NotificationList(generics.ListAPIView):
    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination

    def get_queryset(self):
        mine = Notification.objects.filter(user=self.request.user)
        params = self.request.query_params
        if _flag(params.get("unread")):
            mine = mine.filter(read_at__isnull=True)
        if (after := params.get("after")) is not None:
            try:
                mine = mine.filter(pk__gt=int(after))
            except ValueError:
                raise ValidationError({"after": "must be a number"})
        return mine


class NotificationRead(APIView):
    @extend_schema(
        request=ReadInputSerializer,
        responses={
            200: {
                "type": "object",
                "properties": {"read": {"type": "integer"}, "unread": {"type": "integer"}},
            }
        },
    )
    def post(self, request):
        data = ReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = None if data.validated_data["all"] else data.validated_data["ids"]
        changed = services.mark_read(user=request.user, ids=ids)
        return Response({"read": changed, "unread": services.unread_count(request.user.pk)})
