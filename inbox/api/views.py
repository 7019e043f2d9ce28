"""REST API v1 (a public contract: see the README). Same access rules as the pages."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import services
from inbox.access import get_visible_conversation, visible_account_ids, visible_conversations
from inbox.api.serializers import (
    ConversationSerializer,
    EventSerializer,
    MessageSerializer,
    NoteSerializer,
    ReplyInputSerializer,
)
from inbox.events import from_row
from inbox.live import event_payload
from inbox.models import ContactIdentity, ConversationEvent, Message
from inbox.selectors import MAX_QUERY, BadFilter, parse_status, search_q


class Pagination(CursorPagination):
    """Keyset pagination: ``{"results": [...], "next": URL or null}``."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {"results": schema, "next": {"type": "string", "nullable": True}},
        }


class ConversationPagination(Pagination):
    ordering = ("-last_activity_at", "-id")


class MessagePagination(Pagination):
    ordering = ("sent_at", "id")


class NotePagination(Pagination):
    ordering = ("created_at", "id")


@extend_schema(
    parameters=[
        OpenApiParameter("account", int, description="platform account id"),
        OpenApiParameter(
            "status",
            str,
            enum=["open", "pending", "snoozed", "resolved", "any"],
            description="one status, or `any` (every status, as when the filter is left out)",
        ),
        OpenApiParameter("assignee", str, description="`me`, `none` or a user id"),
        OpenApiParameter(
            "q",
            str,
            description=f"search contact names, usernames and messages (at most {MAX_QUERY} "
            "characters)",
        ),
        OpenApiParameter("contact", int, description="a contact id: all its conversations"),
    ]
)
class ConversationList(generics.ListAPIView):
    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_identity_context(self.request.user)}

    def get_queryset(self):
        params = self.request.query_params
        conversations = visible_conversations(self.request.user).select_related(
            "account", "contact"
        )
        if params.get("tests") != "1":  # the settings area's test events: asked for only
            conversations = conversations.filter(is_test=False)
        if account := params.get("account"):
            conversations = conversations.filter(account_id=_int(account, "account"))
        if contact := params.get("contact"):
            conversations = conversations.filter(contact_id=_int(contact, "contact"))
        try:
            status_ = parse_status(params)
        except BadFilter as bad:
            raise ValidationError({bad.field_name: str(bad)}) from None
        if status_:
            conversations = conversations.filter(status=status_)
        if assignee := params.get("assignee"):
            if assignee == "me":
                conversations = conversations.filter(assignee=self.request.user)
            elif assignee == "none":
                conversations = conversations.filter(assignee__isnull=True)
            else:
                conversations = conversations.filter(assignee_id=_int(assignee, "assignee"))
        query = params.get("q", "").strip()
        if len(query) > MAX_QUERY:
            raise ValidationError({"q": f"at most {MAX_QUERY} characters"})
        if query:
            conversations = conversations.filter(search_q(query))
        return conversations.prefetch_related(
            Prefetch(
                "participants",
                queryset=ContactIdentity.objects.only(
                    "id", "contact_id", "username", "platform_user_id"
                ),
            ),
            Prefetch(
                "contact__identities",
                # Not the accounts' credentials: decrypting them per row is the cost of a page.
                queryset=ContactIdentity.objects.select_related("account")
                .defer("account__credentials")
                .order_by("id"),
            ),
        )


class ConversationDetail(generics.RetrieveAPIView):
    serializer_class = ConversationSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_identity_context(self.request.user)}

    def get_object(self):
        return get_visible_conversation(self.request.user, self.kwargs["pk"])


class ConversationMessages(generics.ListCreateAPIView):
    """Messages oldest first; POST queues a reply (or a private note with ``"note": true``)."""

    serializer_class = MessageSerializer
    pagination_class = MessagePagination

    def get_queryset(self):
        conversation = get_visible_conversation(self.request.user, self.kwargs["pk"])
        return Message.objects.filter(conversation=conversation).prefetch_related(
            "attachments", "reactions"
        )

    @extend_schema(request=ReplyInputSerializer, responses={201: MessageSerializer})
    def post(self, request, pk: int):
        conversation = get_visible_conversation(request.user, pk)
        data = ReplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            if data.validated_data["note"]:
                note = services.add_note(
                    conversation=conversation, author=request.user, text=data.validated_data["text"]
                )
                return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)
            message = services.queue_reply(
                conversation=conversation, author=request.user, text=data.validated_data["text"]
            )
        except services.ReplyRefused as refused:
            return Response(
                {"code": refused.code, "detail": refused.detail},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(
            MessageSerializer(message, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ConversationNotes(generics.ListAPIView):
    serializer_class = NoteSerializer
    pagination_class = NotePagination

    def get_queryset(self):
        conversation = get_visible_conversation(self.request.user, self.kwargs["pk"])
        return conversation.notes.all()


class EventList(APIView):
    """Live events after ``after`` (an event id) for reconnect catch-up, oldest first."""

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, required=True),
            OpenApiParameter("latest", bool, description="only return the newest event id"),
        ],
        responses=EventSerializer(many=True),
    )
    def get(self, request):
        visible = ConversationEvent.objects.filter(account_id__in=visible_account_ids(request.user))
        if request.query_params.get("latest"):
            newest = visible.order_by("-id").values_list("id", flat=True).first()
            return Response({"latest": newest or 0})
        after = _int(request.query_params.get("after", "0"), "after")
        events = visible.filter(pk__gt=after).order_by("id")[:500]
        return Response({"results": [event_payload(from_row(e)) for e in events]})


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: "must be a number"})


def _identity_context(user) -> dict:
    """The contact's identities shown are those on accounts the caller may see."""
    return {"visible_accounts": None if user.is_admin else set(visible_account_ids(user))}
