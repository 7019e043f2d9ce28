"""Agent pages. Thin: read through the access selectors, write through the services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inbox import services
from inbox.access import get_visible_conversation, visible_conversations
from inbox.policy import reply_policy

LIST_PAGE_SIZE = 50


def _thread(conversation, after: int | None = None):
    messages = (
        conversation.messages.select_related("author", "sender_identity")
        .prefetch_related("attachments", "reactions")
        .order_by("sent_at", "id")
    )
    if after:
        messages = messages.filter(pk__gt=after)
    return messages


@login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    conversations = (
        visible_conversations(request.user)
        .select_related("account", "contact", "assignee")
        .order_by("-last_activity_at", "-id")[:LIST_PAGE_SIZE]
    )
    template = "inbox/_conversation_rows.html" if request.htmx else "inbox/conversation_list.html"
    return render(request, template, {"conversations": conversations})


@login_required
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_visible_conversation(request.user, pk)
    return render(
        request,
        "inbox/conversation_detail.html",
        {
            "conversation": conversation,
            "messages": _thread(conversation),
            "notes": conversation.notes.select_related("author").order_by("created_at"),
            "policy": reply_policy(conversation),
        },
    )


@login_required
def conversation_messages(request: HttpRequest, pk: int) -> HttpResponse:
    """Thread rows after a message id: what the live page fetches when an event arrives."""
    conversation = get_visible_conversation(request.user, pk)
    after = request.GET.get("after")
    messages = _thread(conversation, int(after) if after and after.isdigit() else None)
    return render(request, "inbox/_messages.html", {"messages": messages})


@login_required
@require_POST
def conversation_reply(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_visible_conversation(request.user, pk)
    text = request.POST.get("text", "")
    error = ""
    try:
        if request.POST.get("note"):
            services.add_note(conversation=conversation, author=request.user, text=text)
        else:
            services.queue_reply(conversation=conversation, author=request.user, text=text)
    except services.ReplyRefused as refused:
        error = refused.detail
    if request.htmx:
        response = render(
            request,
            "inbox/_composer.html",
            {"conversation": conversation, "policy": reply_policy(conversation), "error": error},
        )
        response["HX-Trigger"] = "parley:thread-changed"
        return response
    return redirect("inbox:conversation", pk=pk)
