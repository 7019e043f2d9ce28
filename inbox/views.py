"""Agent pages. Thin: read through the access selectors, write through the services."""

from __future__ import annotations

import copy
import logging

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from chatbot import engine as chatbot
from inbox import (
    composer,
    engagement,
    media,
    preferences,
    reading,
    saved_replies,
    selectors,
    services,
    snooze,
    undo,
)
from inbox.access import get_visible_conversation, visible_conversations
from inbox.models import Attachment, Contact, Conversation, Label, Team
from inbox.policy import reply_policy

log = logging.getLogger(__name__)


# --- The list ---------------------------------------------------------------------------------


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    try:
        filters = selectors.ListFilters.from_query(request.GET)
    except selectors.BadFilter as bad:
        if "only" in request.GET or request.GET.get("cursor"):
            return HttpResponseBadRequest(str(bad))
        # Say which parameter was wrong (a 400), and show the default list under the message.
        filters = selectors.ListFilters(errors=[str(bad)])
    status = 400 if filters.errors else 200
    only = request.GET.get("only")
    if only is not None:
        # One row for a live update: empty when it does not (or no longer) match the filters.
        if not only.isdigit():
            return HttpResponseBadRequest("only must be a conversation id")
        page = selectors.conversation_page(request.user, filters, only=int(only))
        return render(request, "inbox/_conversation_rows.html", {"page": page, "single": True})
    page = selectors.conversation_page(request.user, filters)
    if request.htmx and request.GET.get("cursor"):
        return render(request, "inbox/_conversation_rows.html", {"page": page})
    context = {
        "page": page,
        "filters": filters,
        "nav": selectors.sidebar(request.user),
        "agents": selectors.assignable_agents(request.user),
        "statuses": Conversation.Status.choices,
        "priorities": Conversation.Priority.choices,
        "query": filters.query_dict(),
        "every_status_query": urlencode(filters.query_dict(status=selectors.ANY_STATUS)),
    }
    template = "inbox/_list_body.html" if request.htmx else "inbox/conversation_list.html"
    response = render(request, template, context, status=status)
    _remember_list(request, response, filters)
    return response


@login_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """Assign, label or resolve the selected rows (each checked against the user's access)."""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    conversations = list(
        visible_conversations(request.user).filter(pk__in=ids).select_related("account")
    )
    action = request.POST.get("action", "")
    try:
        with transaction.atomic():  # all of the selection or none of it
            for conversation in conversations:
                _apply_action(request, conversation, action)
    except (ValueError, ValidationError) as error:
        flash.error(request, _error_text(error))
    else:
        flash.success(
            request,
            ngettext(
                "%(count)d conversation updated.",
                "%(count)d conversations updated.",
                len(conversations),
            )
            % {"count": len(conversations)},
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        back = reverse("inbox:list")
    return redirect(back)


# The list the agent last looked at: the conversation page shows it beside the thread, and
# "next after resolve" and j/k follow its order. A cookie of this browser (a tab's own list),
# not the session: the list page stays free of session writes.
LIST_COOKIE = "parley_list"


def _remember_list(
    request: HttpRequest, response: HttpResponse, filters: selectors.ListFilters
) -> None:
    query = urlencode(filters.query_dict())
    if request.COOKIES.get(LIST_COOKIE) != query:
        response.set_cookie(
            LIST_COOKIE,
            query,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )


def _list_query(request: HttpRequest) -> str:
    return request.COOKIES.get(LIST_COOKIE, "")


def _remembered_list(request: HttpRequest) -> selectors.ListFilters:
    # Parsed like the list's own query string: a tampered cookie is filters like any other.
    return selectors.ListFilters.from_query(QueryDict(_list_query(request)))


# --- One conversation -------------------------------------------------------------------------


def _conversation_context(request: HttpRequest, conversation: Conversation) -> dict:
    comment = (
        engagement.latest_comment(conversation)
        if conversation.kind == Conversation.Kind.COMMENT
        else None
    )
    return {
        "conversation": conversation,
        "comment": comment,
        "private_policy": engagement.private_reply_policy(comment) if comment else None,
        "dm_invite_policy": engagement.dm_invite_policy(comment) if comment else None,
        "dm_invite": engagement.pending_dm_invite(conversation) if comment else None,
        "policy": reply_policy(conversation),
        "rules": composer.rules_for(conversation),
        "labels": Label.objects.order_by("name"),
        "agents": selectors.assignable_agents(request.user, conversation),
        "teams": Team.objects.filter(accounts=conversation.account_id).order_by("name"),
        "statuses": Conversation.Status.choices,
        "priorities": Conversation.Priority.choices,
        "snooze_presets": snooze.presets(request.user.zone),
        "list_query": _list_query(request),
    }


@login_required
@require_GET
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_visible_conversation(request.user, pk)
    items, earlier = selectors.thread_page(conversation)
    message_ids = [i.obj.pk for i in items if i.kind == "message"]
    last = max(message_ids, default=0)
    # Read before the mark moves: the page opens at what the agent has not seen yet.
    first_unread = reading.first_unread(
        user=request.user, conversation_id=conversation.pk, message_ids=message_ids
    )
    reading.mark_read(user=request.user, conversation_id=conversation.pk, up_to=last)
    # The customer sees "seen" where the platform has it (only inside the reply window).
    engagement.mark_seen(conversation)
    context = _conversation_context(request, conversation)
    context.update(
        {
            "items": items,
            "earlier": earlier,
            "first_unread": first_unread,
            "others": selectors.other_conversations(request.user, conversation),
            "seen_event": selectors.latest_event_id(conversation),
            # The list pane: the agent's list, read after the mark above so this row is read.
            "page": selectors.conversation_page(request.user, _remembered_list(request)),
        }
    )
    return render(request, "inbox/conversation_detail.html", context)


@login_required
@require_GET
def conversation_header(request: HttpRequest, pk: int) -> HttpResponse:
    """The header and action panel, re-rendered when another agent changes the conversation."""
    conversation = get_visible_conversation(request.user, pk)
    return render(
        request, "inbox/_conversation_header.html", _conversation_context(request, conversation)
    )


@login_required
@require_GET
def conversation_messages(request: HttpRequest, pk: int) -> HttpResponse:
    """Thread items after a message id and a note id: what the live page fetches when an
    event arrives (it then moves the read mark with a POST to ``read/``)."""
    conversation = get_visible_conversation(request.user, pk)
    before = request.GET.get("before", "")
    if before.isdigit():
        # "Earlier messages": the page of the thread before this message.
        items, earlier = selectors.thread_page(conversation, before=int(before))
        return render(
            request,
            "inbox/_messages.html",
            {"items": items, "earlier": earlier, "conversation": conversation},
        )
    after = request.GET.get("after", "")
    note_after = request.GET.get("note_after", "")
    items = selectors.thread_items(
        conversation,
        after_message=int(after) if after.isdigit() else 0,
        after_note=int(note_after) if note_after.isdigit() else None,
    )
    return render(request, "inbox/_messages.html", {"items": items})


@login_required
@require_POST
def conversation_reply(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_visible_conversation(request.user, pk)
    text = request.POST.get("text", "")
    is_note = _is_note(request.POST)
    seen = request.POST.get("seen_event", "")
    context = _conversation_context(request, conversation)
    context.update(
        {
            "text": text,
            "seen_event": int(seen) if seen.isdigit() else 0,
            "mode": "note" if is_note else "reply",
        }
    )
    try:
        if is_note:
            services.add_note(conversation=conversation, author=request.user, text=text)
        else:
            changed = selectors.replies_since(
                conversation, event_id=context["seen_event"], user=request.user
            )
            if changed and not request.POST.get("confirm"):
                # Someone else replied (or the customer wrote) after this page was loaded: show
                # what changed and let the agent send anyway or rethink.
                context.update({"changed": changed, "keep_text": True})
                return _composer_response(request, conversation, context, status=409)
            with transaction.atomic():
                _send_reply(request, conversation, context, text)
    except services.ReplyRefused as refused:
        context.update({"error": refused.detail, "keep_text": True})
        return _composer_response(request, conversation, context, status=422)
    context["seen_event"] = selectors.latest_event_id(conversation)
    context["text"] = ""
    return _composer_response(request, conversation, context)


def _is_note(data) -> bool:
    """A private note when the composer's mode says so, or when the note button was pressed.
    The mode radio is always submitted; a button is not (htmx drops the one that
    ``requestSubmit(button)`` names), so it only ever turns a reply into a note, never back."""
    return data.get("mode") == "note" or bool(data.get("note"))


def _send_reply(request: HttpRequest, conversation: Conversation, context: dict, text: str) -> None:
    """A reply from the composer: under a comment, public or as the one private DM; elsewhere
    a message with its attachments."""
    comment = context["comment"]
    if comment is not None:
        choice = request.POST.get("reply_to_comment")
        if choice == "private":
            engagement.queue_private_reply(comment=comment, text=text, author=request.user)
        elif choice == "invite_dm":
            engagement.invite_to_dm(comment=comment, text=text, author=request.user)
        else:
            engagement.queue_comment_reply(comment=comment, text=text, author=request.user)
        return
    composer.send(
        conversation=conversation,
        author=request.user,
        text=text,
        files=request.FILES.getlist("attachment"),
        base_url=request.build_absolute_uri("/"),
    )


def _composer_response(request, conversation, context, status: int = 200) -> HttpResponse:
    if not request.htmx:
        if context.get("error"):
            flash.error(request, context["error"])
        elif context.get("changed"):
            flash.warning(request, _("The conversation changed since you loaded it; not sent."))
        return redirect("inbox:conversation", pk=conversation.pk)
    response = render(request, "inbox/_composer.html", context, status=200)
    # htmx swaps 2xx only: the status travels in a header for the page and the tests.
    response["X-Parley-Result"] = str(status)
    response["HX-Trigger"] = "parley:thread-changed"
    return response


@login_required
@require_GET
def saved_reply_list(request: HttpRequest, pk: int) -> JsonResponse:
    """The user's saved replies with this conversation's variables filled in (the `/` picker)."""
    conversation = get_visible_conversation(request.user, pk)
    return JsonResponse({"results": saved_replies.rendered_for(request.user, conversation)})


@login_required
@require_POST
def conversation_action(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_visible_conversation(request.user, pk)
    next_id = None
    if (
        _resolves(request.POST)
        and request.user.open_next_after_resolve
        and not request.POST.get("stay")  # `e` on the list: the agent stays on the list
    ):
        # Chosen before resolving: a resolved conversation usually leaves the list.
        next_id = selectors.next_in_list(request.user, _remembered_list(request), conversation)
    before = copy.copy(conversation)
    try:
        _apply_action(request, conversation, request.POST.get("action", ""))
        undo.offer_if_resolved(request, conversation, before)
    except (ValueError, ValidationError) as error:
        flash.error(request, _error_text(error))
        if request.htmx:
            return HttpResponseBadRequest(_error_text(error))
    else:
        if next_id is not None:
            return _open_conversation(request, next_id)
    if request.htmx:
        response = render(
            request,
            "inbox/_conversation_header.html",
            _conversation_context(request, get_visible_conversation(request.user, pk)),
        )
        # The page's flash comes along (out of band): a resolve's undo offer shows at once.
        response.write(render_to_string("inbox/_flash.html", {"oob": True}, request=request))
        return response
    return redirect("inbox:conversation", pk=pk)


@login_required
@require_POST
def undo_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Take back this session's resolve of the conversation, while the offer lasts."""
    conversation = get_visible_conversation(request.user, pk)
    state = undo.take(request, conversation.pk)
    if state is None:
        flash.error(request, _("Too late to undo: resolve it again or reopen it instead."))
    else:
        with transaction.atomic():
            undo.restore(conversation=conversation, actor=request.user, state=state)
        flash.success(request, _("Resolve undone: the conversation is open again."))
    return redirect("inbox:conversation", pk=pk)


def _resolves(data: QueryDict) -> bool:
    action = data.get("action")
    return action == "resolve" or (
        action == "status" and data.get("status") == Conversation.Status.RESOLVED
    )


def _open_conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """A whole page load, so the next page shows the flash messages of this action."""
    url = reverse("inbox:conversation", args=[pk])
    if request.htmx:
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


@login_required
@require_POST
def workspace_preferences(request: HttpRequest) -> HttpResponse:
    """The agent's own workspace toggles (a checkbox that submits itself)."""
    preferences.set_open_next_after_resolve(
        user=request.user, enabled=request.POST.get("open_next_after_resolve") == "1"
    )
    if request.htmx:
        return HttpResponse(status=204)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        back = reverse("inbox:list")
    return redirect(back)


@login_required
@require_POST
def conversation_read(request: HttpRequest, pk: int) -> HttpResponse:
    get_visible_conversation(request.user, pk)
    up_to = request.POST.get("message", "")
    mark = reading.mark_read(
        user=request.user, conversation_id=pk, up_to=int(up_to) if up_to.isdigit() else None
    )
    return JsonResponse({"read": mark})


def _error_text(error: Exception) -> str:
    """What a refused action says to the agent (a ValidationError's messages, not its repr)."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _apply_action(request: HttpRequest, conversation: Conversation, action: str) -> None:
    """One triage action through the services; ValueError for input that makes no sense."""
    user = request.user
    data = request.POST
    if action == "assign":
        target = data.get("assignee", "")
        team = None
        if data.get("team", "").isdigit():
            team = Team.objects.filter(
                pk=int(data["team"]), accounts=conversation.account_id
            ).first()
            if team is None:
                raise ValueError(_("That team does not handle this account."))
        if target == "me":
            assignee = user
        elif target == "none":
            assignee = None
        elif target == "" and team is not None:
            assignee = conversation.assignee  # team only: keep the agent
        elif target.isdigit():
            allowed = {u.pk: u for u in selectors.assignable_agents(user, conversation)}
            assignee = allowed.get(int(target))
            if assignee is None:
                raise ValueError(_("That agent cannot see this conversation."))
        else:
            raise ValueError(_("Choose who to assign to."))
        services.assign(conversation=conversation, actor=user, assignee=assignee, team=team)
    elif action == "status":
        status = data.get("status", "")
        if status not in (
            Conversation.Status.OPEN,
            Conversation.Status.PENDING,
            Conversation.Status.RESOLVED,
        ):
            raise ValueError(_("Unknown status."))
        services.change_status(conversation=conversation, status=status, actor=user)
    elif action == "resolve":
        services.change_status(
            conversation=conversation, status=Conversation.Status.RESOLVED, actor=user
        )
    elif action == "snooze":
        until = snooze.until(data.get("preset", ""), data.get("until", ""), user.zone)
        services.change_status(
            conversation=conversation,
            status=Conversation.Status.SNOOZED,
            actor=user,
            snoozed_until=until,
        )
    elif action == "labels":
        ids = [int(i) for i in data.getlist("labels") if i.isdigit()]
        labels = list(Label.objects.filter(pk__in=ids))
        if data.get("mode") == "add":
            labels = list({*conversation.labels.all(), *labels})
        services.set_labels(conversation=conversation, labels=labels, actor=user)
    elif action == "priority":
        raw = data.get("priority", "")
        if not raw.lstrip("-").isdigit():
            raise ValueError(_("Unknown priority."))
        services.set_priority(conversation=conversation, priority=int(raw), actor=user)
    elif action == "bot":
        # Give the conversation back to the chatbot, or take it from the bot (chatbot/).
        if data.get("enabled") == "1":
            chatbot.give_back(conversation, actor=user)
        elif data.get("enabled") == "0":
            if conversation.bot_enabled:
                chatbot.hand_off(conversation, reason={"by": "agent"}, actor=user)
        else:
            raise ValueError(_("Unknown bot setting."))
    else:
        raise ValueError(_("Unknown action."))


# --- Media ------------------------------------------------------------------------------------


@login_required
@require_GET
def attachment_media(request: HttpRequest, pk: int) -> HttpResponse:
    """Attachment media served by Parley (platform CDN links expire): the stored copy, or —
    for media the platform forbids storing — fetched for this view only, never kept."""
    attachment = (
        Attachment.objects.select_related("message")
        .filter(pk=pk, message__is_deleted=False)
        .first()
    )
    if attachment is None:
        raise Http404("No such attachment")
    get_visible_conversation(request.user, attachment.message.conversation_id)
    disposition = "attachment" if attachment.kind == Attachment.Kind.FILE else "inline"
    if attachment.file:
        response = FileResponse(
            attachment.file.open("rb"),
            content_type=attachment.content_type or None,
            as_attachment=disposition == "attachment",
            filename=attachment.name or attachment.file.name.rsplit("/", 1)[-1],
        )
    elif attachment.url:
        try:
            content, content_type = media.download(attachment.url)
        except Exception as error:  # noqa: BLE001 - an expired link is a 404 for the agent
            log.info("attachment %s not fetched: %s", pk, error)
            raise Http404("This media is no longer available from the platform.") from error
        response = HttpResponse(content, content_type=attachment.content_type or content_type)
        response["Content-Disposition"] = disposition
    else:
        raise Http404("This attachment has no media")
    # Customer-supplied content: never sniffed into HTML, never run as a page of ours.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def contact_avatar(request: HttpRequest, pk: int) -> HttpResponse:
    """A contact's platform avatar through Parley (platform CDN links expire and leak the
    agent's browser to the platform); only for contacts of conversations the user may see."""
    if not visible_conversations(request.user).filter(contact_id=pk).exists():
        raise Http404("No such contact")
    contact = Contact.objects.filter(pk=pk).exclude(avatar_url="").first()
    if contact is None:
        raise Http404("No avatar")
    try:
        content, content_type = media.download(contact.avatar_url)
    except Exception as error:  # noqa: BLE001 - an expired avatar link shows initials instead
        raise Http404("Avatar not available") from error
    # Served from our origin, so only what cannot run: a raster image by its bytes (an SVG
    # avatar could carry script), never by the type the remote server claims.
    raster_type = media.raster_image_type(content)
    if raster_type is None:
        log.warning("avatar of contact %s refused: not a raster image (%s)", pk, content_type)
        raise Http404("Avatar not available")
    response = HttpResponse(content, content_type=raster_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def outbound_media(request: HttpRequest, token: str) -> HttpResponse:
    """An outbound attachment for the platform to fetch: no login, a signed expiring token."""
    attachment = composer.attachment_for_token(token)
    if attachment is None or not attachment.file:
        raise Http404("No such media")
    response = FileResponse(
        attachment.file.open("rb"), content_type=attachment.content_type or None
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
