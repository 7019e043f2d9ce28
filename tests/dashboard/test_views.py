"""The agent pages: access on every URL, escaping, the composer's rules and warnings, triage
actions, bulk actions, media through Parley."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from inbox import services
from inbox.models import (
    Attachment,
    Contact,
    Conversation,
    ConversationRead,
    Label,
    Message,
    Note,
    SavedReply,
)
from tests.factories import AccountFactory, ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx(client: Client):
    client.defaults["HTTP_HX_REQUEST"] = "true"
    return client


@pytest.fixture
def conversation(account):
    conversation = ConversationFactory(
        account=account, contact=ContactFactory(name="Priya Raman"), last_inbound_at=timezone.now()
    )
    MessageFactory(conversation=conversation, text="Is the green coat in stock?")
    return conversation


def test_pages_need_a_login(client, conversation):
    for url in ("/", f"/conversations/{conversation.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_outsider_gets_404_on_every_conversation_url(conversation, outsider):
    client = login(outsider)
    pk = conversation.pk
    attachment = Attachment.objects.create(
        message=conversation.messages.get(), kind="image", file=ContentFile(b"x", name="a.png")
    )
    gets = [
        f"/conversations/{pk}/",
        f"/conversations/{pk}/header/",
        f"/conversations/{pk}/messages/?after=0",
        f"/conversations/{pk}/saved-replies/",
        f"/attachments/{attachment.pk}/",
        f"/contacts/{conversation.contact_id}/avatar/",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (f"/conversations/{pk}/reply/", {"text": "hi"}),
        (f"/conversations/{pk}/actions/", {"action": "assign", "assignee": "me"}),
        (f"/conversations/{pk}/read/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    # ... and the list, the search and a live row show nothing of it.
    assert b"Priya" not in client.get("/?status=any&q=priya").content
    assert b"Priya" not in client.get(f"/?only={pk}").content
    assert not Message.objects.filter(direction="outbound").exists()
    assert Conversation.objects.get(pk=pk).assignee is None


def test_list_shows_rows_with_unread_and_waiting(conversation, agent):
    Conversation.objects.filter(pk=conversation.pk).update(
        waiting_since=timezone.now() - timedelta(minutes=7)
    )
    html = login(agent).get("/").content.decode()
    assert 'id="conversation-rows"' in html
    assert "Priya Raman" in html and "Is the green coat in stock?" not in html  # preview field
    assert 'data-unread="1"' in html
    assert "waiting 7 min" in html


def test_resolved_rows_do_not_say_waiting(account, agent):
    now = timezone.now()
    # The customer wrote last, then the agent resolved without answering.
    ConversationFactory(
        account=account,
        status=Conversation.Status.RESOLVED,
        contact=ContactFactory(name="Done Deal"),
        waiting_since=now,
        last_activity_at=now,
    )

    html = login(agent).get("/?status=resolved").content.decode()

    assert "Done Deal" in html
    assert "waiting" not in html.split('id="conversation-rows"')[1]
    assert "just now</time>" in html


def test_customer_text_is_escaped_and_links_are_safe(account, agent):
    conversation = ConversationFactory(account=account)
    MessageFactory(
        conversation=conversation,
        text='<img src=x onerror=alert(1)> see https://shop.example/coat?a=1&b=2"><script>',
    )
    html = login(agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert (
        '<a href="https://shop.example/coat?a=1&amp;b=2" target="_blank" '
        'rel="noopener noreferrer">' in html
    )


def test_opening_a_conversation_marks_it_read(conversation, agent):
    login(agent).get(f"/conversations/{conversation.pk}/")
    read = ConversationRead.objects.get(user=agent, conversation=conversation)
    assert read.last_read_message_id == conversation.messages.get().pk


def test_read_mark_moves_forward_only_and_only_on_visible_conversations(
    conversation, agent, outsider
):
    newer = MessageFactory(conversation=conversation)
    client = login(agent)
    assert client.post(f"/conversations/{conversation.pk}/read/", {"message": newer.pk}).json() == {
        "read": newer.pk
    }
    client.post(f"/conversations/{conversation.pk}/read/", {"message": 1})
    assert ConversationRead.objects.get(user=agent).last_read_message_id == newer.pk
    assert login(outsider).post(f"/conversations/{conversation.pk}/read/").status_code == 404


def test_reply_is_queued_and_note_is_kept_apart(conversation, agent):
    client = htmx(login(agent))
    seen = client.get(f"/conversations/{conversation.pk}/").context["seen_event"]
    response = client.post(
        f"/conversations/{conversation.pk}/reply/", {"text": "Yes, in M", "seen_event": seen}
    )
    assert response.status_code == 200 and response["X-Parley-Result"] == "200"
    reply = Message.objects.get(direction="outbound")
    assert reply.text == "Yes, in M" and reply.author == agent
    client.post(f"/conversations/{conversation.pk}/reply/", {"text": "VIP customer", "note": "1"})
    assert Note.objects.get().text == "VIP customer"
    assert Message.objects.filter(direction="outbound").count() == 1
    thread = client.get(f"/conversations/{conversation.pk}/messages/?after=0&note_after=0")
    assert b"Private note" in thread.content and b"never sent to the customer" in thread.content


def test_reply_on_a_conversation_that_changed_since_loading_warns_first(
    conversation, agent, teammate
):
    client = htmx(login(agent))
    seen = client.get(f"/conversations/{conversation.pk}/").context["seen_event"]
    services.queue_reply(conversation=conversation, author=teammate, text="Bob was faster")

    response = client.post(
        f"/conversations/{conversation.pk}/reply/", {"text": "Mine", "seen_event": seen}
    )
    assert response["X-Parley-Result"] == "409"
    assert "changed since you loaded it" in response.content.decode()
    assert "Bob was faster" in response.content.decode()
    assert not Message.objects.filter(text="Mine").exists()

    response = client.post(
        f"/conversations/{conversation.pk}/reply/",
        {"text": "Mine", "seen_event": seen, "confirm": "1"},
    )
    assert Message.objects.filter(text="Mine").exists()


def test_composer_is_disabled_with_the_reason_when_the_platform_refuses(account, agent):
    account.status = "disconnected"
    account.save()
    conversation = ConversationFactory(account=account)
    html = login(agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "This Sandbox account is disconnected: ask an admin." in html
    assert 'id="send" disabled' in html
    response = htmx(login(agent)).post(f"/conversations/{conversation.pk}/reply/", {"text": "x"})
    assert response["X-Parley-Result"] == "422"
    assert not Message.objects.filter(direction="outbound").exists()


def test_saved_replies_fill_in_variables_without_running_templates(conversation, agent, team):
    SavedReply.objects.create(
        shortcut="thanks",
        title="Thanks",
        text="Hi {{contact.first_name}}, {{agent.first_name}} here. {% now 'Y' %} {{ secret.key }}",
    )
    SavedReply.objects.create(shortcut="other-team", title="Hidden", text="x").teams.add(
        team.__class__.objects.create(name="Elsewhere")
    )
    results = login(agent).get(f"/conversations/{conversation.pk}/saved-replies/").json()["results"]
    assert results == [
        {
            "shortcut": "thanks",
            "title": "Thanks",
            "text": "Hi Priya, Alice here. {% now 'Y' %} {{ secret.key }}",
        }
    ]


def test_attachments_within_platform_limits_are_sent_and_served(conversation, agent, settings):
    client = htmx(login(agent))
    two = [SimpleUploadedFile(n, b"data", content_type="image/png") for n in ("a.png", "b.png")]
    response = client.post(
        f"/conversations/{conversation.pk}/reply/", {"text": "photos", "attachment": two}
    )
    assert response["X-Parley-Result"] == "422"
    assert "accepts 1 attachment per message" in response.content.decode()

    one = SimpleUploadedFile("size-chart.png", b"\x89PNG data", content_type="image/png")
    client.post(f"/conversations/{conversation.pk}/reply/", {"text": "", "attachment": one})
    attachment = Attachment.objects.get(message__direction="outbound")
    assert attachment.kind == "image" and attachment.url.startswith("http://testserver/media/")
    # The platform fetches it without a login through the signed link...
    platform = Client().get(attachment.url.removeprefix("http://testserver"))
    assert b"".join(platform.streaming_content) == b"\x89PNG data"
    # ... a tampered link gives nothing, and agents read it through the access check.
    assert (
        Client().get(attachment.url.removeprefix("http://testserver")[:-3] + "xyz/").status_code
        == 404
    )
    served = client.get(f"/attachments/{attachment.pk}/")
    assert served["X-Content-Type-Options"] == "nosniff"


def test_actions_assign_snooze_resolve_labels_priority(conversation, agent, teammate):
    client = login(agent)
    url = f"/conversations/{conversation.pk}/actions/"
    label = Label.objects.create(name="vip")

    client.post(url, {"action": "assign", "assignee": "me"})
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    client.post(url, {"action": "assign", "assignee": str(teammate.pk)})
    conversation.refresh_from_db()
    assert conversation.assignee == teammate
    client.post(url, {"action": "snooze", "preset": "tomorrow"})
    conversation.refresh_from_db()
    assert conversation.status == "snoozed"
    assert timezone.localtime(conversation.snoozed_until).hour == 9
    client.post(url, {"action": "labels", "labels": [label.pk]})
    client.post(url, {"action": "priority", "priority": "3"})
    client.post(url, {"action": "resolve"})
    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.priority == 3
    assert list(conversation.labels.all()) == [label]


def test_assigning_to_someone_without_access_is_refused(conversation, agent, outsider):
    response = htmx(login(agent)).post(
        f"/conversations/{conversation.pk}/actions/",
        {"action": "assign", "assignee": str(outsider.pk)},
    )
    assert response.status_code == 400
    assert Conversation.objects.get(pk=conversation.pk).assignee is None


def test_snooze_needs_a_future_time(conversation, agent):
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    login(agent).post(
        f"/conversations/{conversation.pk}/actions/", {"action": "snooze", "until": past}
    )
    assert Conversation.objects.get(pk=conversation.pk).status == "open"


def test_bulk_actions_touch_only_visible_conversations(account, other_account, agent):
    mine = [ConversationFactory(account=account) for _ in range(2)]
    foreign = ConversationFactory(account=other_account)
    label = Label.objects.create(name="refund")
    client = login(agent)
    every = [c.pk for c in mine] + [foreign.pk]

    client.post("/conversations/bulk/", {"ids": every, "action": "assign", "assignee": "me"})
    client.post(
        "/conversations/bulk/",
        {"ids": every, "action": "labels", "labels": label.pk, "mode": "add"},
    )
    client.post("/conversations/bulk/", {"ids": every, "action": "resolve"})

    for conversation in mine:
        conversation.refresh_from_db()
        assert conversation.assignee == agent and conversation.status == "resolved"
        assert list(conversation.labels.all()) == [label]
    foreign.refresh_from_db()
    assert foreign.assignee is None and foreign.status == "open" and not foreign.labels.exists()


def test_live_row_is_empty_when_the_conversation_leaves_the_filter(conversation, agent):
    client = htmx(login(agent))
    assert b"Priya Raman" in client.get(f"/?view=unassigned&only={conversation.pk}").content
    services.assign(conversation=conversation, actor=agent, assignee=agent)
    assert b"Priya Raman" not in client.get(f"/?view=unassigned&only={conversation.pk}").content


def test_customer_media_is_proxied_not_hot_linked(account, agent):
    conversation = ConversationFactory(account=account)
    message = MessageFactory(conversation=conversation, text="")
    stored = Attachment.objects.create(
        message=message, kind="video", url="https://cdn.example/v.mp4", content_type="video/mp4"
    )
    stored.file.save("v.mp4", ContentFile(b"video"), save=True)
    html = login(agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert f'<video controls preload="metadata" src="/attachments/{stored.pk}/">' in html
    assert "cdn.example" not in html


def test_contact_profile_lists_other_visible_conversations(account, other_account, agent):
    contact = Contact.objects.create(name="Sam Lee")
    here = ConversationFactory(account=account, contact=contact)
    earlier = ConversationFactory(
        account=account, contact=contact, status="resolved", last_message_preview="old order"
    )
    ConversationFactory(account=other_account, contact=contact, last_message_preview="secret")
    html = login(agent).get(f"/conversations/{here.pk}/").content.decode()
    assert f"/conversations/{earlier.pk}/" in html and "old order" in html
    assert "secret" not in html


def test_account_filter_of_another_account_shows_nothing(account, agent):
    foreign = AccountFactory()
    ConversationFactory(account=foreign, contact=ContactFactory(name="Hidden Person"))
    assert b"Hidden Person" not in login(agent).get(f"/?account={foreign.pk}").content


def test_list_rows_escape_names_previews_and_labels(account, agent):
    conversation = ConversationFactory(
        account=account,
        contact=ContactFactory(name='<b onmouseover="x()">Eve</b>'),
        last_message_preview="<script>alert(1)</script>",
    )
    conversation.labels.add(Label.objects.create(name="<i>vip</i>", color='"><b>x'))
    html = login(agent).get("/").content.decode()
    assert "<script>alert(1)</script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b onmouseover=&quot;x()&quot;&gt;Eve&lt;/b&gt;" in html
    assert 'style="border-color:&quot;&gt;&lt;b&gt;x"' in html


def test_long_threads_load_in_pages_with_their_notes(account, agent, settings):
    from inbox import selectors

    conversation = ConversationFactory(account=account)
    start = timezone.now() - timedelta(hours=5)
    messages = [
        MessageFactory(
            conversation=conversation, text=f"m{i}", sent_at=start + timedelta(minutes=i)
        )
        for i in range(7)
    ]
    early_note = Note.objects.create(
        conversation=conversation,
        author=agent,
        text="early",
        created_at=start - timedelta(minutes=1),
    )
    late_note = Note.objects.create(
        conversation=conversation, author=agent, text="late", created_at=start + timedelta(hours=1)
    )
    items, earlier = selectors.thread_page(conversation, size=3)
    assert [i.obj.text for i in items] == ["m4", "m5", "m6", "late"]
    assert earlier == messages[4].pk
    items, earlier = selectors.thread_page(conversation, before=earlier, size=3)
    assert [i.obj.text for i in items] == ["m1", "m2", "m3"]
    items, earlier = selectors.thread_page(conversation, before=earlier, size=3)
    assert [i.obj.text for i in items] == ["early", "m0"] and earlier is None
    assert early_note.pk and late_note.pk

    client = htmx(login(agent))
    html = client.get(f"/conversations/{conversation.pk}/messages/?before={messages[1].pk}")
    assert b"m0" in html.content and b"m1" not in html.content


def test_story_mention_media_is_fetched_for_the_view_and_never_stored(
    account, agent, fake_platforms
):
    from tests.fakes.server import Reply

    fake_platforms.script(
        "GET",
        r"^/cdn/story\.jpg$",
        Reply(raw=b"\xff\xd8story", content_type="image/jpeg"),
        Reply(status=404, raw=b"gone", content_type="text/plain"),
    )
    conversation = ConversationFactory(account=account)
    message = MessageFactory(conversation=conversation, text="")
    story = Attachment.objects.create(
        message=message,
        kind="story",
        url=f"{fake_platforms.url}/cdn/story.jpg",
        store_media=False,
        metadata={"type": "story_mention"},
    )
    client = login(agent)
    html = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Mentioned you in their story" in html
    assert f'src="/attachments/{story.pk}/"' in html and "/cdn/story.jpg" not in html

    served = client.get(f"/attachments/{story.pk}/")
    assert served.status_code == 200 and served.content == b"\xff\xd8story"
    story.refresh_from_db()
    assert not story.file  # Meta forbids keeping story-mention media
    assert client.get(f"/attachments/{story.pk}/").status_code == 404  # the link expired


def test_the_platform_rule_is_shown_and_a_closed_window_disables_sending(team, agent):
    messenger = AccountFactory(platform="messenger", credentials={"page_token": "t"})
    team.accounts.add(messenger)
    open_window = ConversationFactory(
        account=messenger, last_inbound_at=timezone.now() - timedelta(hours=20, minutes=48)
    )
    html = login(agent).get(f"/conversations/{open_window.pk}/").content.decode()
    assert "Messenger window closes in 3 h 1" in html and 'id="send" disabled' not in html

    closed = ConversationFactory(
        account=messenger, last_inbound_at=timezone.now() - timedelta(days=9)
    )
    html = login(agent).get(f"/conversations/{closed.pk}/").content.decode()
    assert "Messenger no longer accepts a reply here" in html
    assert 'id="send" disabled' in html


def test_older_conversations_link_fetches_the_next_rows(account, agent):
    import re

    now = timezone.now()
    for i in range(53):
        ConversationFactory(account=account, last_activity_at=now - timedelta(minutes=i))
    client = login(agent)
    html = client.get("/?view=all").content.decode()
    assert html.count('class="row ') == 50
    link = re.search(r'hx-get="(/\?[^"]*cursor=[^"]+)"', html).group(1).replace("&amp;", "&")
    more = htmx(client).get(link).content.decode()
    assert more.count('class="row ') == 3 and "Older conversations" not in more


def test_list_refuses_a_filter_value_that_is_not_a_choice_and_names_it(account, agent):
    ConversationFactory(account=account)
    client = login(agent)

    response = client.get("/?status=bogus")

    assert response.status_code == 400
    assert "status: &#x27;bogus&#x27; is not a valid choice" in response.content.decode()
    assert htmx(client).get("/?platform=myspace").status_code == 400
    assert client.get("/?only=1&sort=sideways").status_code == 400


def test_search_says_which_statuses_it_searched(account, agent):
    ConversationFactory(
        account=account,
        status=Conversation.Status.RESOLVED,
        contact=ContactFactory(name="Kenji Watanabe"),
    )
    client = login(agent)

    everywhere = client.get("/?q=kenji").content.decode()
    only_open = client.get("/?q=kenji&status=open").content.decode()

    assert "Searched every status: open, pending, snoozed, resolved." in everywhere
    assert "Kenji Watanabe" in everywhere
    assert "Searched open conversations only." in only_open
    assert 'href="?status=any&amp;q=kenji"' in only_open
    assert "Kenji Watanabe" not in only_open


def test_list_page_query_count_is_pinned(account, agent, django_assert_num_queries):
    label = Label.objects.create(name="vip")
    for _ in range(5):
        ConversationFactory(account=account, assignee=agent).labels.add(label)
    client = login(agent)
    # session, user, the user's accounts, rows (with unread counts), their labels, their
    # accounts, and the sidebar: accounts, teams, labels, teammates, assignable agents (the
    # last two with their availability in the same query), and the notification bell: the
    # agent's preferences and unread count.
    with django_assert_num_queries(13):
        assert client.get("/").status_code == 200
