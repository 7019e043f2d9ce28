"""One conversation's page over HTTP: what makes a submission a private note, forms that work
without the button that was pressed, where the thread opens, and the undo of a resolve."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from inbox import reading, undo
from inbox.models import Conversation, Message, Note
from tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def login(user, *, htmx: bool = True) -> Client:
    client = Client()
    client.force_login(user)
    if htmx:
        client.defaults["HTTP_HX_REQUEST"] = "true"
    return client


@pytest.fixture
def conversation(account):
    conversation = ConversationFactory(account=account, contact=ContactFactory(name="Ines Duarte"))
    MessageFactory(conversation=conversation, text="Is my parcel lost?")
    return conversation


class Forms(HTMLParser):
    """The fields each form submits when no button is pressed (hidden inputs, checked radios,
    selects' chosen options), and the ids of its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: tuple[str, list[tuple[str, bool]]] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "fields": [], "buttons": set()})
        elif not self.forms:
            return
        elif tag == "input" and (
            a.get("type") == "hidden" or (a.get("type") == "radio" and "checked" in a)
        ):
            self.forms[-1]["fields"].append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("id"):
            self.forms[-1]["buttons"].add(a["id"])
        elif tag == "select":
            self._select = (a["name"], [])
        elif tag == "option" and self._select:
            self._select[1].append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            name, options = self._select
            chosen = [value for value, selected in options if selected] or [options[0][0]]
            self.forms[-1]["fields"].append((name, chosen[0]))
            self._select = None


def form_with(html: str, button_id: str) -> dict:
    parser = Forms()
    parser.feed(html)
    return next(f for f in parser.forms if button_id in f["buttons"])


def submit_without_button(client: Client, html: str, button_id: str):
    """What arrives when the form is submitted but the pressed button is not (htmx's
    ``requestSubmit(button)``)."""
    form = form_with(html, button_id)
    data: dict[str, list[str]] = {}
    for name, value in form["fields"]:
        data.setdefault(name, []).append(value)
    return client.post(form["action"], data)


def test_the_mode_field_alone_makes_a_private_note(conversation, agent):
    client = login(agent)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    composer = form_with(page, "add-note")
    assert ("mode", "reply") in composer["fields"]  # always submitted: one radio is checked

    response = client.post(
        f"/conversations/{conversation.pk}/reply/", {"mode": "note", "text": "Customer is upset"}
    )
    assert response["X-Parley-Result"] == "200"
    assert Note.objects.get().text == "Customer is upset"
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    # The composer comes back in note mode.
    assert 'value="note" checked' in response.content.decode()


def test_the_note_button_makes_a_note_even_in_reply_mode(conversation, agent):
    client = login(agent, htmx=False)
    client.post(
        f"/conversations/{conversation.pk}/reply/",
        {"mode": "reply", "note": "1", "text": "Refund approved"},
    )
    assert Note.objects.get().text == "Refund approved"
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_events_say_who_sent_so_their_typing_notice_can_end(conversation, agent):
    client = login(agent)
    client.post(f"/conversations/{conversation.pk}/reply/", {"mode": "reply", "text": "On it"})
    client.post(f"/conversations/{conversation.pk}/reply/", {"mode": "note", "text": "VIP"})
    events = client.get("/api/v1/events/?after=0").json()["results"]
    sent = {e["type"]: e["actor"] for e in events if e["conversation"] == conversation.pk}
    assert sent["inbox.message_sent"] == agent.pk
    assert sent["inbox.note_added"] == agent.pk


def test_reply_mode_without_a_button_sends_the_reply(conversation, agent):
    client = login(agent)
    client.post(f"/conversations/{conversation.pk}/reply/", {"mode": "reply", "text": "On it"})
    assert Message.objects.get(direction=Message.Direction.OUTBOUND).text == "On it"
    assert not Note.objects.exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_header_actions_work_without_the_pressed_button(conversation, agent, teammate, htmx):
    Conversation.objects.filter(pk=conversation.pk).update(assignee=teammate)
    client = login(agent, htmx=htmx)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()

    submit_without_button(client, page, "assign-me")
    conversation.refresh_from_db()
    assert conversation.assignee == agent

    submit_without_button(client, page, "bot-off")
    conversation.refresh_from_db()
    assert conversation.bot_enabled is False

    submit_without_button(client, page, "resolve")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED


def test_undo_puts_back_status_assignee_and_bot_and_only_once(conversation, agent, teammate):
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.PENDING, assignee=teammate, bot_enabled=False
    )
    client = login(agent)
    response = client.post(
        f"/conversations/{conversation.pk}/actions/", {"action": "status", "status": "resolved"}
    )
    # The answer brings the offer along for the page's flash.
    assert 'id="undo-offer"' in response.content.decode()
    assert 'hx-swap-oob="true"' in response.content.decode()
    conversation.refresh_from_db()
    assert (conversation.status, conversation.bot_enabled) == ("resolved", True)

    # It survives moving on: the list shows it too.
    assert 'id="undo-offer"' in client.get("/").content.decode()
    client.post(f"/conversations/{conversation.pk}/undo-resolve/")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee, conversation.bot_enabled) == (
        Conversation.Status.PENDING,
        teammate,
        False,
    )
    # Taken: a second undo changes nothing and the offer is gone.
    client.post(
        f"/conversations/{conversation.pk}/actions/", {"action": "assign", "assignee": "me"}
    )
    response = client.post(f"/conversations/{conversation.pk}/undo-resolve/", follow=True)
    assert "Too late to undo" in response.content.decode()
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee) == ("pending", agent)
    assert 'id="undo-offer"' not in response.content.decode()


def test_undo_is_refused_once_its_time_is_up(conversation, agent):
    client = login(agent)
    client.post(f"/conversations/{conversation.pk}/actions/", {"action": "resolve"})
    session = client.session
    session[undo.SESSION_KEY]["until"] -= undo.UNDO_SECONDS
    session.save()
    assert 'id="undo-offer"' not in client.get("/").content.decode()
    client.post(f"/conversations/{conversation.pk}/undo-resolve/")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED


def test_undo_applies_only_to_the_resolved_conversation(conversation, account, agent, outsider):
    other = ConversationFactory(account=account, status=Conversation.Status.RESOLVED)
    client = login(agent)
    client.post(f"/conversations/{conversation.pk}/actions/", {"action": "resolve"})
    client.post(f"/conversations/{other.pk}/undo-resolve/")
    other.refresh_from_db()
    assert other.status == Conversation.Status.RESOLVED
    assert (
        login(outsider).post(f"/conversations/{conversation.pk}/undo-resolve/").status_code == 404
    )


def test_the_thread_marks_the_first_unread_customer_message(conversation, agent):
    client = login(agent, htmx=False)
    first_visit = client.get(f"/conversations/{conversation.pk}/")
    assert first_visit.context["first_unread"] is None
    assert b'id="unread-marker"' not in first_visit.content

    mine = MessageFactory(
        conversation=conversation, direction=Message.Direction.OUTBOUND, sender_kind="agent"
    )
    unread = MessageFactory(conversation=conversation, text="Still waiting")
    MessageFactory(conversation=conversation, text="Hello?")
    ids = list(conversation.messages.values_list("pk", flat=True))
    assert reading.first_unread(user=agent, conversation_id=conversation.pk, message_ids=ids) == (
        unread.pk
    )
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert page.index('id="unread-marker"') < page.index(f'id="message-{unread.pk}"')
    assert page.index(f'id="message-{mine.pk}"') < page.index('id="unread-marker"')
    # Seen now: the next visit has nothing unread.
    again = client.get(f"/conversations/{conversation.pk}/")
    assert again.context["first_unread"] is None
