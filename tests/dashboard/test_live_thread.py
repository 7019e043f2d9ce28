"""One conversation in headless Chromium against uvicorn + PostgreSQL + Redis + a real Celery
worker: private notes never reach the customer however they are submitted, the thread opens at
its newest (or first unread) message and keeps the agent's place, a new message is fetched for
the thread before the list pane's row, a teammate's typing notice ends with their send, a
resolve can be undone, and files are attached by drop and paste."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import SandboxOutbox
from inbox.models import Attachment, Conversation, ConversationRead, Message, Note
from tests.dashboard.test_live_dashboard import log_in, post
from tests.factories import MessageFactory
from tests.helpers import sandbox_body, wait_for

pytestmark = [pytest.mark.live, pytest.mark.browser]


def customer_writes(url: str, account, text: str = "Is my parcel lost?") -> Conversation:
    """A signed webhook through the worker: Ines Duarte's conversation."""
    post(url, account, sandbox_body(sender_id="cust-ines", name="Ines Duarte", text=text))
    conversation = wait_for(
        lambda: Conversation.objects.filter(contact__name="Ines Duarte").first()
    )
    wait_for(lambda: conversation.messages.filter(text=text).exists())
    return conversation


def open_conversation(url: str, account, page, *, text: str = "Is my parcel lost?"):
    """A customer writes; the agent opens the thread."""
    conversation = customer_writes(url, account, text)
    page.goto(f"{url}/conversations/{conversation.pk}/")
    page.wait_for_selector("#live-status[data-state=live]")
    return conversation


def outbound(conversation) -> list[str]:
    return list(
        conversation.messages.filter(direction=Message.Direction.OUTBOUND).values_list(
            "text", flat=True
        )
    )


def test_a_note_stays_private_by_enter_button_shortcut_and_ctrl_enter(
    live_server_process, celery_worker_process, chromium, account, agent
):
    url = live_server_process.url
    context, alice, alerts = log_in(chromium, url, agent)
    conversation = open_conversation(url, account, alice)

    def note_shown(text: str) -> None:
        alice.locator("#thread .note-item", has_text=text).wait_for(timeout=10_000)
        shown = alice.locator("#thread .note-item", has_text=text).inner_text()
        assert "PRIVATE NOTE" in shown and "never sent to the customer" in shown

    # Note mode by its radio, then Enter.
    alice.check("#composer-form input[name=mode][value=note]")
    alice.fill("#composer-text", "Enter: customer sounded upset")
    alice.press("#composer-text", "Enter")
    note_shown("Enter: customer sounded upset")

    # In reply mode, the note button.
    alice.check("#composer-form input[name=mode][value=reply]")
    alice.fill("#composer-text", "Button: refund approved by Sam")
    alice.click("#add-note")
    note_shown("Button: refund approved by Sam")

    # The `n` shortcut from outside the text box, then typing and Enter.
    alice.check("#composer-form input[name=mode][value=reply]")
    alice.keyboard.press("Escape")  # out of the radio, as from anywhere on the page
    alice.keyboard.press("n")
    assert alice.evaluate("document.activeElement.id") == "composer-text"
    # The text box says it is a note now, not a reply.
    assert alice.get_attribute("#composer-text", "placeholder").startswith("Write a private note")
    assert alice.get_attribute("#composer-text", "aria-label") == "Private note"
    alice.keyboard.type("Shortcut: check the warehouse first")
    alice.keyboard.press("Enter")
    note_shown("Shortcut: check the warehouse first")

    # Ctrl+Enter in note mode (the composer stays in note mode after a note).
    assert alice.is_checked("#composer-form input[name=mode][value=note]")
    assert alice.locator("#send").is_hidden()  # nothing to send to the customer by mistake
    alice.fill("#composer-text", "Ctrl+Enter: VIP customer")
    alice.press("#composer-text", "Control+Enter")
    note_shown("Ctrl+Enter: VIP customer")

    assert sorted(
        Note.objects.filter(conversation=conversation).values_list("text", flat=True)
    ) == [
        "Button: refund approved by Sam",
        "Ctrl+Enter: VIP customer",
        "Enter: customer sounded upset",
        "Shortcut: check the warehouse first",
    ]
    assert outbound(conversation) == []

    # A reply still goes out as a reply, and it is the only thing the platform ever received.
    alice.keyboard.press("Escape")
    alice.keyboard.press("r")
    alice.keyboard.type("We are on it, Ines.")
    alice.keyboard.press("Enter")
    wait_for(
        lambda: conversation.messages.filter(
            direction=Message.Direction.OUTBOUND, status=Message.Status.SENT
        ).exists()
    )
    assert outbound(conversation) == ["We are on it, Ines."]
    assert list(SandboxOutbox.objects.values_list("text", flat=True)) == ["We are on it, Ines."]
    assert alerts == []
    context.close()


def thread_scroll(page) -> dict:
    return page.evaluate(
        "(() => { const t = document.getElementById('thread');"
        " return {top: t.scrollTop, bottomGap: t.scrollHeight - t.scrollTop - t.clientHeight,"
        " pill: !document.getElementById('new-messages').hidden}; })()"
    )


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        "(s) => { const t = document.getElementById('thread').getBoundingClientRect();"
        " const r = document.querySelector(s).getBoundingClientRect();"
        " return r.top >= t.top - 1 && r.bottom <= t.bottom + 1; }",
        selector,
    )


def test_a_long_thread_opens_at_the_newest_and_keeps_the_place_while_reading_up(
    live_server_process, celery_worker_process, chromium, account, agent
):
    url = live_server_process.url
    context, alice, alerts = log_in(chromium, url, agent)
    conversation = customer_writes(url, account, "First!")
    start = timezone.now() - timedelta(hours=2)
    for i in range(60):
        MessageFactory(
            conversation=conversation, text=f"Line {i}", sent_at=start + timedelta(minutes=i)
        )
    newest = MessageFactory(conversation=conversation, text="The newest line")
    alice.goto(f"{url}/conversations/{conversation.pk}/")
    alice.wait_for_selector("#live-status[data-state=live]")
    assert alice.locator("#unread-marker").count() == 0  # a first visit: no marker, the newest
    assert thread_scroll(alice)["bottomGap"] < 40
    assert in_view(alice, f"#message-{newest.pk}")

    # Reading further up: a live message arrives but the place is kept; the pill offers it.
    alice.evaluate("document.getElementById('thread').scrollTop = 200")
    post(url, account, sandbox_body(sender_id="cust-ines", name="Ines Duarte", text="Hello??"))
    alice.locator("#thread .message", has_text="Hello??").wait_for(state="attached")
    alice.locator("#new-messages").wait_for()
    assert thread_scroll(alice)["top"] == 200
    assert "New messages" in alice.inner_text("#new-messages")
    alice.click("#new-messages")
    state = thread_scroll(alice)
    assert state["bottomGap"] < 40 and not state["pill"]
    assert in_view(alice, "#thread .message:last-child")

    # At the bottom, a live message simply shows.
    post(url, account, sandbox_body(sender_id="cust-ines", name="Ines Duarte", text="Anyone?"))
    alice.locator("#thread .message", has_text="Anyone?").wait_for()
    wait_for(lambda: thread_scroll(alice)["bottomGap"] < 40)
    assert not thread_scroll(alice)["pill"]

    # Next visit after more arrived: it opens at the first unread message, under its marker.
    alice.goto(f"{url}/")
    read_up_to = ConversationRead.objects.get(user=agent, conversation=conversation)
    first_unread = MessageFactory(conversation=conversation, text="Unread one")
    for i in range(30):
        MessageFactory(conversation=conversation, text=f"Unread more {i}")
    alice.goto(f"{url}/conversations/{conversation.pk}/")
    marker = alice.locator("#unread-marker")
    assert marker.is_visible() and in_view(alice, "#unread-marker")
    assert in_view(alice, f"#message-{first_unread.pk}")
    assert thread_scroll(alice)["bottomGap"] > 200  # not pulled down past what is unread
    assert (
        alice.evaluate("document.getElementById('unread-marker').nextElementSibling.id")
        == f"message-{first_unread.pk}"
    )
    assert read_up_to.last_read_message_id < first_unread.pk
    assert alerts == []
    context.close()


def test_a_new_message_is_fetched_for_the_thread_before_the_list_pane(
    live_server_process, celery_worker_process, chromium, account, agent
):
    """The thread the agent reads comes first: a web process runs its views one at a time, so
    the list pane's row fetched first delayed the new message on screen."""
    url = live_server_process.url
    context, alice, alerts = log_in(chromium, url, agent)
    conversation = open_conversation(url, account, alice)
    assert alice.locator(f"#conversation-rows #row-{conversation.pk}").count() == 1
    asked: list[str] = []
    alice.on("request", lambda request: asked.append(request.url))
    post(url, account, sandbox_body(sender_id="cust-ines", name="Ines Duarte", text="Hello??"))
    alice.locator("#thread .message", has_text="Hello??").wait_for()
    wait_for(lambda: any(f"only={conversation.pk}" in u for u in asked))
    thread = next(i for i, u in enumerate(asked) if "/messages/?after=" in u)
    row = next(i for i, u in enumerate(asked) if f"only={conversation.pk}" in u)
    assert thread < row
    assert alerts == []
    context.close()


def test_a_teammates_typing_notice_ends_when_they_send(
    live_server_process, celery_worker_process, chromium, account, agent, teammate
):
    url = live_server_process.url
    alice_ctx, alice, _ = log_in(chromium, url, agent)
    conversation = open_conversation(url, account, alice)
    bob_ctx, bob, _ = log_in(chromium, url, teammate)
    bob.goto(f"{url}/conversations/{conversation.pk}/")
    alice.locator("#collision", has_text="Bob is viewing").wait_for(timeout=10_000)

    for send in ("Enter", "note"):
        if send == "note":
            bob.check("#composer-form input[name=mode][value=note]")
        bob.type("#composer-text", "Looking into it now")
        alice.locator("#collision", has_text="Bob is typing").wait_for(timeout=10_000)
        bob.press("#composer-text", "Enter")
        bob.wait_for_function("() => document.getElementById('composer-text').value === ''")
        # The notice would otherwise linger for 6 s after the last keystroke.
        alice.locator("#collision", has_text="Bob is viewing").wait_for(timeout=3_000)
        assert "typing" not in alice.inner_text("#collision")
    assert outbound(conversation) == ["Looking into it now"]
    assert Note.objects.filter(conversation=conversation, text="Looking into it now").exists()
    alice_ctx.close()
    bob_ctx.close()


def test_resolve_can_be_undone_by_click_and_by_keyboard_after_moving_on(
    live_server_process, celery_worker_process, chromium, account, agent, teammate
):
    url = live_server_process.url
    context, alice, alerts = log_in(chromium, url, agent)
    conversation = open_conversation(url, account, alice)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.PENDING, assignee=teammate, bot_enabled=False
    )
    alice.reload()

    alice.click("#resolve")
    alice.locator("#conversation-state[data-status=resolved]").wait_for()
    undo = alice.locator("#undo-offer")
    assert "Resolved the conversation with Ines Duarte" in undo.inner_text()
    alice.click("#undo")
    alice.locator("#conversation-state[data-status=pending]").wait_for()
    # The undo is a form POST: the new page's elements exist before its script listens for keys.
    alice.wait_for_load_state()
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee, conversation.bot_enabled) == (
        Conversation.Status.PENDING,
        teammate,
        False,
    )
    assert alice.locator("#undo-offer").count() == 0

    # `e` resolves; the agent moves on to the list; the offer is still there, and `u` takes it.
    alice.locator("#thread").click()
    alice.keyboard.press("e")
    alice.locator("#conversation-state[data-status=resolved]").wait_for()
    alice.goto(f"{url}/")
    alice.locator("#undo-offer").wait_for()
    alice.keyboard.press("u")
    alice.wait_for_url(f"**/conversations/{conversation.pk}/")
    alice.locator("#conversation-state[data-status=pending]").wait_for()
    assert alice.locator("#undo", has_text="Undo").count() == 0

    # The offer goes after a few seconds.
    alice.click("#resolve")
    alice.locator("#undo-offer").wait_for()
    alice.mouse.move(0, 0)  # a pointer resting on the offer keeps it
    alice.locator("#undo-offer").wait_for(state="detached", timeout=15_000)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED

    # From the list: `e` on the selected row resolves it and offers the undo there.
    alice.click("text=Reopen")
    alice.locator("#conversation-state[data-status=open]").wait_for()
    alice.goto(f"{url}/")
    alice.keyboard.press("j")
    alice.keyboard.press("e")
    alice.locator("#undo-offer", has_text="Ines Duarte").wait_for()
    alice.locator("#conversation-rows li.row", has_text="Ines Duarte").wait_for(state="detached")
    alice.keyboard.press("u")
    alice.wait_for_url(f"**/conversations/{conversation.pk}/")
    alice.locator("#conversation-state[data-status=open]").wait_for()
    assert alerts == []
    context.close()


def test_files_are_attached_by_drop_and_by_pasting_an_image(
    live_server_process, celery_worker_process, chromium, account, agent
):
    url = live_server_process.url
    context, alice, alerts = log_in(chromium, url, agent)
    conversation = open_conversation(url, account, alice)
    chosen = alice.locator("#chosen-files li")

    # A file dropped on the composer is listed with a remove button.
    drop = """([name, where]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(["%PDF-1.4 receipt"], name, { type: "application/pdf" }));
      const target = document.querySelector(where);
      target.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }"""
    alice.evaluate(drop, ["wrong.pdf", "#composer-text"])
    assert chosen.inner_text().startswith("wrong.pdf")
    alice.click("#chosen-files button[aria-label='Remove wrong.pdf']")
    assert chosen.count() == 0
    assert alice.evaluate("document.getElementById('composer-file').files.length") == 0
    # Dropped anywhere on the conversation, it goes to the composer too.
    alice.evaluate(drop, ["receipt.pdf", "#thread"])
    assert chosen.count() == 1 and "receipt.pdf" in chosen.inner_text()
    alice.fill("#composer-text", "Here is your receipt")
    alice.press("#composer-text", "Enter")
    sent = wait_for(
        lambda: conversation.messages.filter(text="Here is your receipt", status="sent").first()
    )
    assert [a.name for a in sent.attachments.all()] == ["receipt.pdf"]
    alice.wait_for_function("() => !document.querySelector('#chosen-files li')")  # a fresh composer

    # An image pasted into the text box is attached (text pastes stay text).
    alice.fill("#composer-text", "And the photo")
    alice.evaluate(
        """() => {
          const png = Uint8Array.from(atob(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
          ), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([png], "image.png", { type: "image/png" }));
          document.getElementById("composer-text").dispatchEvent(
            new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
        }"""
    )
    assert "image.png" in chosen.inner_text()
    assert alice.input_value("#composer-text") == "And the photo"
    alice.press("#composer-text", "Enter")
    photo = wait_for(
        lambda: conversation.messages.filter(text="And the photo", status="sent").first()
    )
    image = photo.attachments.get()
    assert (image.kind, image.name, image.content_type) == (
        Attachment.Kind.IMAGE,
        "image.png",
        "image/png",
    )
    # The stored copy is the pasted image (as the agent's browser fetches it).
    assert alice.request.get(f"{url}/attachments/{image.pk}/").body().startswith(b"\x89PNG")
    sent_to_platform = list(SandboxOutbox.objects.order_by("pk").values_list("text", "payload"))
    assert [(text, len(payload["attachments"])) for text, payload in sent_to_platform] == [
        ("Here is your receipt", 1),
        ("And the photo", 1),
    ]
    alice.locator(f"#message-{photo.pk} .attachment img").wait_for()
    assert alerts == []
    context.close()
