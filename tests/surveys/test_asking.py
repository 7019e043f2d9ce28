"""Asking for a rating when a conversation is resolved: when, once, within the platform's
window, as buttons on Messenger and Instagram and numbered options on X; the answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chatbot.models import BotReply, BotSettings, Rule
from inbox.models import Conversation, Message
from surveys.models import Survey, SurveySettings
from tests.fakes.meta import PAGE_ID
from tests.surveys.conftest import customer_writes, sent_to_meta, set_status

pytestmark = pytest.mark.django_db

BUTTONS = ["1 ★", "2 ★★", "3 ★★★", "4 ★★★★", "5 ★★★★★"]


def test_resolving_asks_for_a_rating_with_quick_reply_buttons_on_messenger(
    messenger, agent, fake_platforms
):
    conversation = customer_writes(messenger, "Where is my order?").conversation
    assert sent_to_meta(fake_platforms) == []

    set_status(conversation, "resolved", agent)

    (question,) = sent_to_meta(fake_platforms)
    assert question["text"] == "How would you rate the help you received?"
    assert [q["title"] for q in question["quick_replies"]] == BUTTONS
    assert [q["payload"] for q in question["quick_replies"]] == BUTTONS
    survey = Survey.objects.get(conversation=conversation)
    assert (survey.status, survey.agent, survey.platform) == ("asked", agent, "messenger")
    assert survey.question.sender_kind == "bot"
    assert survey.question.status == Message.Status.SENT


def test_instagram_gets_buttons_too(instagram, agent, fake_platforms):
    conversation = customer_writes(instagram, "Hi", sender="17841400000000001").conversation
    set_status(conversation, "resolved", agent)
    (request,) = [r for r in fake_platforms.sent("POST", r"/messages$") if "message" in r.json()]
    assert [q["title"] for q in request.json()["message"]["quick_replies"]] == BUTTONS


def test_x_gets_numbered_options_and_a_number_is_the_answer(x_account, agent, fake_platforms):
    conversation = customer_writes(x_account, "Help", sender="2244994945").conversation
    set_status(conversation, "resolved", agent)

    (request,) = fake_platforms.sent("POST", r"^/x/2/dm_conversations")
    text = request.json()["text"]
    assert text.startswith("How would you rate the help you received?")
    for line in ("1. Very poor", "2. Poor", "3. Okay", "4. Good", "5. Excellent"):
        assert line in text
    assert "quick_reply" not in request.json()

    customer_writes(x_account, "4", sender="2244994945")
    survey = Survey.objects.get(conversation=conversation)
    assert survey.rating == 4
    assert Conversation.objects.get(pk=conversation.pk).status == "resolved"


def test_only_on_resolve_and_never_twice(messenger, agent, fake_platforms):
    conversation = customer_writes(messenger, "Where is my order?").conversation
    set_status(conversation, "pending", agent)
    assert sent_to_meta(fake_platforms) == []

    set_status(conversation, "resolved", agent)
    set_status(conversation, "open", agent)
    set_status(conversation, "resolved", agent)
    customer_writes(messenger, "One more thing")  # reopens: a new question
    set_status(conversation, "resolved", agent)

    assert len(sent_to_meta(fake_platforms)) == 1
    assert Survey.objects.filter(conversation=conversation).count() == 1


def test_nothing_is_asked_where_the_account_has_no_survey(messenger, agent, fake_platforms):
    SurveySettings.objects.filter(account=messenger).update(enabled=False)
    conversation = customer_writes(messenger, "Where is my order?").conversation
    set_status(conversation, "resolved", agent)
    assert sent_to_meta(fake_platforms) == []
    assert not Survey.objects.exists()


def test_outside_the_window_nothing_is_sent_and_the_reason_is_kept(
    messenger, agent, fake_platforms
):
    # Even with the human-agent tag on: that tag is for agents, not for surveys.
    messenger.options = {"human_agent": True}
    messenger.save()
    old = timezone.now() - timedelta(hours=25)
    conversation = customer_writes(messenger, "Where is my order?", at=old).conversation

    set_status(conversation, "resolved", agent)

    assert sent_to_meta(fake_platforms) == []
    survey = Survey.objects.get(conversation=conversation)
    assert (survey.status, survey.reason) == ("not_sent", "window_closed")
    assert "cannot answer" in survey.reason_detail or "24" in survey.reason_detail

    # The customer writes again and the next resolve is inside the window: asked then.
    customer_writes(messenger, "Still there?")
    set_status(conversation, "resolved", agent)
    assert len(sent_to_meta(fake_platforms)) == 1
    assert Survey.objects.get(conversation=conversation).status == "asked"


def test_test_conversations_and_imported_history_are_never_asked(messenger, agent, fake_platforms):
    conversation = customer_writes(messenger, "Where is my order?").conversation
    Conversation.objects.filter(pk=conversation.pk).update(is_test=True)
    set_status(conversation, "resolved", agent)
    assert sent_to_meta(fake_platforms) == []
    assert not Survey.objects.exists()


def test_imported_history_resolved_is_not_asked(messenger, fake_platforms):
    from connectors.base import MessageReceived, Person
    from inbox import services
    from tests.helpers import committed

    with committed():
        services.receive_messages(
            messenger,
            [
                MessageReceived(
                    platform="messenger",
                    account_external_id=PAGE_ID,
                    timestamp=timezone.now() - timedelta(hours=2),
                    external_id="m-history-1",
                    sender=Person(platform_user_id="69123", name="Old Customer"),
                    text="An old question",
                )
            ],
            history=True,
        )
    conversation = Conversation.objects.get()
    assert conversation.status == "resolved"
    assert sent_to_meta(fake_platforms) == []
    assert not Survey.objects.exists()


# --- Answers -----------------------------------------------------------------------------------


def test_a_tapped_button_is_the_rating_and_the_comment_follows(messenger, agent, fake_platforms):
    BotSettings.objects.create(account=messenger, enabled=True)
    Rule.objects.create(account=messenger, name="Five", triggers="5", response="Menu item five")
    conversation = customer_writes(messenger, "Where is my order?").conversation
    set_status(conversation, "resolved", agent)

    answer = customer_writes(messenger, "5 ★★★★★", metadata={"quick_reply": "5 ★★★★★"})

    survey = Survey.objects.get(conversation=conversation)
    assert (survey.rating, survey.status) == (5, "rated")
    after = Conversation.objects.get(pk=conversation.pk)
    # Not a new question: still resolved, nobody waits, the bot did not answer it.
    assert (after.status, after.waiting_since) == ("resolved", None)
    assert answer.metadata["awaited"] == "survey"
    assert not BotReply.objects.filter(message=answer, reply__isnull=False).exists()
    *_, question, prompt = sent_to_meta(fake_platforms)
    assert [q["title"] for q in question["quick_replies"]] == BUTTONS
    assert prompt["text"] == "Anything you would like to add?"
    assert "quick_replies" not in prompt

    customer_writes(messenger, "Quick and friendly, thanks!")
    survey.refresh_from_db()
    assert (survey.status, survey.comment) == ("done", "Quick and friendly, thanks!")
    assert Conversation.objects.get(pk=conversation.pk).status == "resolved"

    # Anything after the survey is a new question again.
    customer_writes(messenger, "Actually, my mug arrived broken")
    assert Conversation.objects.get(pk=conversation.pk).status == "open"
    assert "Menu item five" not in [m["text"] for m in sent_to_meta(fake_platforms)]


def test_a_typed_number_counts_and_no_comment_is_asked_without_a_prompt(
    messenger, agent, fake_platforms
):
    SurveySettings.objects.filter(account=messenger).update(comment_prompt="")
    conversation = customer_writes(messenger, "Where is my order?").conversation
    set_status(conversation, "resolved", agent)

    customer_writes(messenger, "2")

    survey = Survey.objects.get(conversation=conversation)
    assert (survey.rating, survey.status) == (2, "done")
    assert len(sent_to_meta(fake_platforms)) == 1
    customer_writes(messenger, "hello?")
    assert Conversation.objects.get(pk=conversation.pk).status == "open"


def test_a_new_question_instead_of_a_rating_reopens_and_ends_the_survey(
    messenger, agent, fake_platforms
):
    conversation = customer_writes(messenger, "Where is my order?").conversation
    set_status(conversation, "resolved", agent)

    customer_writes(messenger, "5 minutes later and still no tracking number")

    reopened = Conversation.objects.get(pk=conversation.pk)
    assert reopened.status == "open" and reopened.waiting_since is not None
    survey = Survey.objects.get(conversation=conversation)
    assert (survey.status, survey.rating) == ("closed", None)
    set_status(conversation, "resolved", agent)
    customer_writes(messenger, "5")
    assert Survey.objects.get(conversation=conversation).rating is None
    assert Conversation.objects.get(pk=conversation.pk).status == "open"


@pytest.mark.parametrize(
    ("text", "rating"),
    [("5", 5), ("4/5", 4), ("3 stars", 3), ("★★", 2), ("1 ★", 1), ("10", None), ("5 days", None)],
)
def test_reading_a_rating(text, rating):
    from surveys.questions import parse_rating

    assert parse_rating(text) == rating


def test_a_question_the_platform_refuses_for_good_is_recorded_as_not_sent(
    messenger, agent, fake_platforms
):
    from tests.fakes.meta import error_body
    from tests.fakes.server import Reply

    conversation = customer_writes(messenger, "Where is my order?").conversation
    fake_platforms.script(
        "POST",
        r"/messages$",
        Reply(400, error_body(10, 2018278, "This message is sent outside of allowed window.")),
    )
    set_status(conversation, "resolved", agent)

    survey = Survey.objects.get(conversation=conversation)
    assert (survey.status, survey.reason) == ("not_sent", "delivery_failed")


def test_platforms_without_buttons_or_menus_get_the_scale_in_plain_text(
    account, agent, fake_platforms
):
    SurveySettings.objects.create(account=account, enabled=True, question="How did we do?")
    conversation = customer_writes(account, "Hello", sender="cust-1").conversation
    set_status(conversation, "resolved", agent)

    question = Survey.objects.get(conversation=conversation).question
    assert question.text == (
        "How did we do?\nReply with a number from 1 (very poor) to 5 (excellent)."
    )
    assert question.metadata["quick_replies"] == []
    customer_writes(account, "3", sender="cust-1")
    assert Survey.objects.get(conversation=conversation).rating == 3


def test_stop_as_the_comment_still_opts_the_customer_out(messenger, agent, fake_platforms):
    conversation = customer_writes(messenger, "Where is my order?").conversation
    set_status(conversation, "resolved", agent)
    customer_writes(messenger, "4")

    customer_writes(messenger, "STOP")

    survey = Survey.objects.get(conversation=conversation)
    assert (survey.rating, survey.comment) == (4, "STOP")
    conversation = Conversation.objects.select_related("contact").get(pk=conversation.pk)
    assert conversation.contact.marketing_consent == "opted_out"
    assert conversation.status == "resolved"


def test_a_rating_and_a_new_question_in_one_batch_both_count(messenger, agent, fake_platforms):
    from connectors.base import MessageReceived, Person
    from inbox import services
    from tests.helpers import committed

    conversation = customer_writes(messenger, "Where is my order?").conversation
    set_status(conversation, "resolved", agent)
    now = timezone.now()
    with committed():
        services.receive_messages(
            messenger,
            [
                MessageReceived(
                    platform="messenger",
                    account_external_id=PAGE_ID,
                    timestamp=now + timedelta(seconds=n),
                    external_id=f"m-batch-{n}",
                    sender=Person(platform_user_id="6912345678901234"),
                    text=text,
                )
                for n, text in enumerate(["5", "And can I change my address?"])
            ],
        )

    survey = Survey.objects.get(conversation=conversation)
    assert (survey.rating, survey.status) == (5, "done")
    assert Conversation.objects.get(pk=conversation.pk).status == "open"
    # The comment prompt is not sent into a conversation that is back with the agents.
    assert [m["text"] for m in sent_to_meta(fake_platforms)] == [
        "How would you rate the help you received?"
    ]
