"""REST API v1 (a public contract: see the README). Same access rules as the pages."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import saved_replies, selectors, services, triage
from inbox.access import get_visible_conversation, visible_account_ids, visible_conversations
from inbox.api.serializers import (
    ConversationPatchSerializer,
    ConversationSerializer,
    EventSerializer,
    LabelSerializer,
    MessageSerializer,
    NoteSerializer,
    RefusalSerializer,
    ReplyInputSerializer,
    SavedReplySerializer,
    UserSerializer,
)
from inbox.events import from_row
from inbox.live import event_payload
from inbox.models import ContactIdentity, ConversationEvent, Label, Message, User
from inbox.selectors import MAX_QUERY, BadFilter, parse_status, search_q
from inbox.settings_area import audit


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
            "account", "contact", "team"
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
            "labels",
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
    """One conversation; PATCH changes its status, assignee, team, priority, labels or snooze
    (all or nothing), as an agent would on the dashboard."""

    serializer_class = ConversationSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_identity_context(self.request.user)}

    def get_object(self):
        return get_visible_conversation(self.request.user, self.kwargs["pk"])

    @extend_schema(
        request=ConversationPatchSerializer,
        responses={200: ConversationSerializer, 422: RefusalSerializer},
    )
    def patch(self, request, pk: int):
        conversation = self.get_object()
        if not isinstance(request.data, dict):
            return _refused("invalid_body", _("The body must be a JSON object."))
        try:
            triage.update_conversation(
                conversation=conversation, actor=request.user, changes=request.data
            )
        except triage.TriageRefused as refused:
            return _refused(refused.code, refused.detail)
        return Response(ConversationSerializer(self.get_object()).data)


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


class LabelList(generics.ListAPIView):
    """Every label; POST ``{"name"}`` makes one (admins and managers)."""

    serializer_class = LabelSerializer
    pagination_class = None

    def get_queryset(self):
        return Label.objects.order_by("name")

    def list(self, request, *args, **kwargs):
        return Response({"results": self.get_serializer(self.get_queryset(), many=True).data})

    @extend_schema(
        request=LabelSerializer, responses={201: LabelSerializer, 422: RefusalSerializer}
    )
    def post(self, request):
        if not request.user.is_manager:
            raise PermissionDenied(_("Only admins and managers may create labels."))
        data = LabelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        name = data.validated_data["name"].strip()
        if Label.objects.filter(name__iexact=name).exists():
            return _refused("label_exists", _("A label with that name exists."))
        try:
            with transaction.atomic():
                label = Label.objects.create(
                    name=name, **({"color": c} if (c := data.validated_data.get("color")) else {})
                )
                audit.record(actor=request.user, action="label.created", target=label)
        except IntegrityError:
            return _refused("label_exists", _("A label with that name exists."))
        return Response(LabelSerializer(label).data, status=status.HTTP_201_CREATED)


class SavedReplyList(APIView):
    """The saved replies the caller may use; with ``?conversation=<id>`` their variables are
    filled in for that conversation."""

    @extend_schema(
        parameters=[OpenApiParameter("conversation", int)],
        responses=SavedReplySerializer(many=True),
    )
    def get(self, request):
        replies = saved_replies.available(request.user).prefetch_related("teams")
        rows = SavedReplySerializer(replies, many=True).data
        if conversation_id := request.query_params.get("conversation"):
            conversation = get_visible_conversation(
                request.user, _int(conversation_id, "conversation")
            )
            for row in rows:
                row["text"] = saved_replies.render(
                    row["text"], conversation=conversation, agent=request.user
                )
        return Response({"results": rows})


class UserList(APIView):
    """Active users for assignment pickers: with ``?conversation=<id>``, those who may be
    assigned it; otherwise admins and the caller's teammates (an admin: everyone)."""

    @extend_schema(
        parameters=[OpenApiParameter("conversation", int)], responses=UserSerializer(many=True)
    )
    def get(self, request):
        if conversation_id := request.query_params.get("conversation"):
            conversation = get_visible_conversation(
                request.user, _int(conversation_id, "conversation")
            )
            users = selectors.assignable_agents(request.user, conversation)
        elif request.user.is_admin:
            users = User.objects.filter(is_active=True).order_by("first_name", "username")
        else:
            users = selectors.assignable_agents(request.user)
        ids = [u.pk for u in users]
        rows = User.objects.filter(pk__in=ids).prefetch_related("teams")
        by_id = {u.pk: u for u in rows}
        return Response({"results": UserSerializer([by_id[i] for i in ids], many=True).data})


# Swagger UI's stylesheet draws its icons as data: SVG images; scripts stay our own files.
@csp_update({"img-src": ["data:"]})
@login_required
def api_reference(request: HttpRequest) -> HttpResponse:
    """The API reference page (Swagger UI over ``/api/schema/``), for every signed-in user."""
    return render(request, "api/reference.html")


def _refused(code: str, detail: str) -> Response:
    return Response({"code": code, "detail": detail}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: "must be a number"})


def _identity_context(user) -> dict:
    """The contact's identities shown are those on accounts the caller may see."""
    return {"visible_accounts": None if user.is_admin else set(visible_account_ids(user))}
