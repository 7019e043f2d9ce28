"""Outreach lists: each platform's first-contact rule applied and explained per handle, the
Instagram 15 and X 50 limits, sends through the normal delivery path (the fake X), replies
labelled and shown, follow-up reminders, and who may use the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors.base import MessageReceived, Person
from inbox import services as inbox_services
from inbox.models import Conversation, Message
from notifications.models import Notification
from outreach import services
from outreach.models import OutreachList, Recipient
from parley.celery import PERIODIC_TASKS
from tests.factories import AccountFactory, UserFactory
from tests.fakes import x as fake_x
from tests.fakes.server import Reply
from tests.helpers import committed
from tests.outreach.conftest import person

pytestmark = pytest.mark.django_db


def make_list(account, owner, handles, **kwargs) -> OutreachList:
    return services.create_list(
        name=kwargs.pop("name", "Spring creators"),
        account=account,
        owner=owner,
        first_message=kwargs.pop("first_message", "Hi! Would you like to try our new mug?"),
        handles=handles,
        **kwargs,
    )


def rows(outreach) -> dict[str, services.Plan]:
    return {p.recipient.handle: p for p in services.plan(outreach)}


# --- Instagram and Messenger: only people who wrote first, 15 at once on Instagram ------------


def test_instagram_sends_to_at_most_15_at_once(ig_account, manager):
    handles = [f"creator{i}" for i in range(20)]
    for handle in handles:
        person(ig_account, handle, wrote=timedelta(hours=2))
    outreach = make_list(ig_account, manager, handles)

    first = services.send_list(outreach=outreach, actor=manager)

    assert (first.sent, first.left) == (15, 5)
    assert outreach.recipients.filter(status=Recipient.Status.SENT).count() == 15
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 15
    second = services.send_list(outreach=outreach, actor=manager)
    assert (second.sent, second.left) == (5, 0)
    assert not outreach.recipients.filter(status=Recipient.Status.PENDING).exists()


def test_instagram_explains_who_can_get_a_first_dm_and_offers_the_public_path(ig_account, manager):
    person(ig_account, "wrote_today", wrote=timedelta(hours=3))
    person(ig_account, "wrote_last_month", wrote=timedelta(days=30))
    commenter = person(ig_account, "commenter", comment=True)
    outreach = make_list(
        ig_account, manager, ["wrote_today", "wrote_last_month", "commenter", "stranger"]
    )

    plans = rows(outreach)

    assert plans["wrote_today"].can_dm
    assert "They wrote first" in plans["wrote_today"].detail
    assert "window closes in" in plans["wrote_today"].detail
    for handle in ("wrote_last_month", "commenter", "stranger"):
        assert not plans[handle].can_dm
        assert "Public-comment path" in plans[handle].detail
    assert "no longer accepts a reply" in plans["wrote_last_month"].detail
    assert "only to people who wrote to the account first" in plans["stranger"].detail
    comment = Conversation.objects.get(kind=Conversation.Kind.COMMENT)
    assert plans["commenter"].comment_conversation == comment
    assert comment.contact_id == commenter.contact_id

    summary = services.send_list(outreach=outreach, actor=manager)

    assert (summary.sent, summary.public) == (1, 3)
    public = outreach.recipients.filter(status=Recipient.Status.PUBLIC)
    assert sorted(public.values_list("handle", flat=True)) == [
        "commenter",
        "stranger",
        "wrote_last_month",
    ]
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_messenger_outside_the_window_offers_the_public_path(team, manager):
    page = AccountFactory(platform="messenger", external_id="page-1")
    team.accounts.add(page)
    person(page, "old_friend", wrote=timedelta(days=3))
    outreach = make_list(page, manager, ["old_friend"])

    (plan,) = services.plan(outreach)

    assert not plan.can_dm
    assert plan.code == "public_path"


def test_linkedin_explains_that_it_has_no_dms(team, manager):
    page = AccountFactory(platform="linkedin", external_id="urn:li:organization:1")
    team.accounts.add(page)
    outreach = make_list(page, manager, ["someone"])

    (plan,) = services.plan(outreach)

    assert not plan.can_dm
    assert "has no direct messages" in plan.detail


# --- X: DMs where their settings allow it, groups of up to 50 ---------------------------------


def test_x_explains_the_dm_settings_rule(x_account, manager):
    person(x_account, "known")
    outreach = make_list(x_account, manager, ["known", "unknown"])

    plans = rows(outreach)

    assert plans["known"].can_dm
    assert "where their settings allow it" in plans["known"].detail
    assert "refuses otherwise, and the reason is recorded" in plans["known"].detail
    assert "Looked up on X when sent" in plans["unknown"].detail


def test_x_handle_looked_up_and_dmed_through_delivery(x_account, manager, x_api):
    fake_x.USERS["maker_mia"] = {
        "id": "1600000000000000042",
        "name": "Mia",
        "username": "maker_mia",
    }
    outreach = make_list(x_account, manager, ["@Maker_Mia", "nobody_here"])

    with committed():
        summary = services.send_list(outreach=outreach, actor=manager)

    assert (summary.sent, summary.refused) == (1, 1)
    (sent,) = x_api.sent("POST", r"^/x/2/dm_conversations/with/1600000000000000042/messages$")
    assert sent.json() == {"text": "Hi! Would you like to try our new mug?"}
    mia = outreach.recipients.get(handle="Maker_Mia")
    assert mia.identity.platform_user_id == "1600000000000000042"
    mia.message.refresh_from_db()
    assert mia.message.status == Message.Status.SENT
    nobody = outreach.recipients.get(handle="nobody_here")
    assert nobody.status == Recipient.Status.REFUSED
    assert nobody.reason == "X knows no user @nobody_here."


def test_x_refusal_of_a_dm_is_recorded_with_its_reason(x_account, manager, x_api):
    closed = person(x_account, "closed_dms")
    x_api.script(
        "POST",
        rf"/with/{closed.platform_user_id}/messages$",
        Reply(
            403, {"errors": [{"code": 349, "message": "You cannot send messages to this user."}]}
        ),
    )
    outreach = make_list(x_account, manager, ["closed_dms"])

    with committed():
        services.send_list(outreach=outreach, actor=manager)

    (plan,) = services.plan(outreach)
    assert plan.code == "failed"
    assert "does not accept messages from this account" in plan.detail
    recipient = outreach.recipients.get()
    assert recipient.message.status == Message.Status.FAILED
    assert "does not accept messages" in recipient.message.error


def test_x_group_of_more_than_50_people_is_refused_whole(x_account, manager, x_api):
    handles = [f"maker{i}" for i in range(50)]
    for handle in handles:
        person(x_account, handle)
    outreach = make_list(x_account, manager, handles, as_group=True)

    with pytest.raises(services.OutreachError) as refused:
        services.send_list(outreach=outreach, actor=manager)

    assert refused.value.code == "too_many_for_group"
    assert "at most 50 people" in refused.value.detail
    assert not Message.objects.exists()
    assert not outreach.recipients.exclude(status=Recipient.Status.PENDING).exists()


def test_x_group_of_50_people_is_one_group_conversation(x_account, manager, x_api):
    handles = [f"maker{i}" for i in range(49)]
    for handle in handles:
        person(x_account, handle)
    outreach = make_list(x_account, manager, handles, as_group=True)

    with committed():
        summary = services.send_list(outreach=outreach, actor=manager)

    assert summary.sent == 49
    (sent,) = x_api.sent("POST", r"^/x/2/dm_conversations$")
    body = sent.json()
    assert body["conversation_type"] == "Group"
    assert len(body["participant_ids"]) == 49
    group = Conversation.objects.get(kind=Conversation.Kind.GROUP)
    assert group.participants.count() == 49
    assert set(outreach.recipients.values_list("message", flat=True)) == {group.messages.get().pk}


def test_groups_are_refused_where_the_platform_has_none(ig_account, manager):
    with pytest.raises(services.OutreachError) as refused:
        make_list(ig_account, manager, ["a", "b"], as_group=True)
    assert refused.value.code == "no_groups"


# --- Replies and follow-ups -------------------------------------------------------------------


def _customer_dm(account, identity, text: str) -> None:
    event = MessageReceived(
        platform="x",
        account_external_id=account.external_id,
        timestamp=timezone.now(),
        external_id=f"dm-{identity.pk}-{text}",
        sender=Person(platform_user_id=identity.platform_user_id, username=identity.username),
        text=text,
    )
    with committed():
        inbox_services.receive_messages(account, [event])


def test_replies_land_in_labelled_conversations_and_show_as_replied(
    client, x_account, manager, x_api
):
    ana, ben = person(x_account, "ana"), person(x_account, "ben")
    outreach = make_list(x_account, manager, ["ana", "ben"])
    with committed():
        services.send_list(outreach=outreach, actor=manager)

    _customer_dm(x_account, ana, "Love it, send me one!")

    conversation = Conversation.objects.get(contact=ana.contact, kind=Conversation.Kind.DM)
    assert conversation.messages.filter(direction=Message.Direction.INBOUND).exists()
    assert list(conversation.labels.values_list("name", flat=True)) == ["Outreach: Spring creators"]
    assert Conversation.objects.get(contact=ben.contact).labels.get() == outreach.label
    plans = rows(outreach)
    assert plans["ana"].recipient.replied_at is not None
    assert plans["ben"].recipient.replied_at is None
    client.force_login(manager)
    page = client.get(f"/outreach/{outreach.pk}/").content.decode()
    assert "Replied" in page and "No reply yet" in page
    assert "1 / 2" in page


def test_follow_up_reminder_goes_to_the_owner_once_for_those_who_did_not_reply(
    x_account, manager, x_api
):
    ana = person(x_account, "ana")
    person(x_account, "ben")
    outreach = make_list(x_account, manager, ["ana", "ben"], follow_up_days=3)
    with committed():
        services.send_list(outreach=outreach, actor=manager)
    _customer_dm(x_account, ana, "Yes please")
    # Sent four days ago.
    outreach.recipients.update(sent_at=timezone.now() - timedelta(days=4))
    Message.objects.filter(direction=Message.Direction.INBOUND).update(sent_at=timezone.now())

    with committed():
        assert services.remind_follow_ups() == 1
        assert services.remind_follow_ups() == 0

    (notification,) = Notification.objects.filter(user=manager)
    assert notification.kind == Notification.Kind.OUTREACH_FOLLOW_UP
    assert "@ben" in notification.text and "@ana" not in notification.text
    assert "Spring creators" in notification.text
    assert "outreach-follow-up-reminders" in PERIODIC_TASKS


def test_no_reminder_before_the_follow_up_is_due(x_account, manager, x_api):
    person(x_account, "ana")
    outreach = make_list(x_account, manager, ["ana"], follow_up_days=3)
    with committed():
        services.send_list(outreach=outreach, actor=manager)
    outreach.recipients.update(sent_at=timezone.now() - timedelta(days=2))

    assert services.remind_follow_ups() == 0
    assert not Notification.objects.exists()


# --- The pages and who may use them -----------------------------------------------------------


def test_a_manager_creates_a_list_and_sends_it_from_the_pages(client, x_account, manager, x_api):
    person(x_account, "ana")
    client.force_login(manager)

    response = client.post(
        "/outreach/",
        {
            "name": "Mug makers",
            "account": x_account.pk,
            "handles": "@ana\n@ANA\nbob_the_builder",
            "first_message": "Hello from Example Mugs!",
            "follow_up_days": "5",
        },
    )
    outreach = OutreachList.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/outreach/{outreach.pk}/"
    assert list(outreach.recipients.values_list("handle", flat=True)) == [
        "ana",
        "bob_the_builder",
    ]
    with committed():
        client.post(f"/outreach/{outreach.pk}/send/")
    page = client.get(f"/outreach/{outreach.pk}/").content.decode()
    assert "Sent: 1. Refused: 1." in page
    assert "X knows no user @bob_the_builder." in page


def test_bad_lists_are_refused_with_a_reason(client, x_account, manager):
    client.force_login(manager)
    base = {"name": "L", "account": x_account.pk, "first_message": "Hi", "follow_up_days": "3"}

    bad_handle = client.post("/outreach/", {**base, "handles": "<script>"})
    no_handles = client.post("/outreach/", {**base, "handles": "  "})
    too_long = client.post("/outreach/", {**base, "handles": "a", "first_message": "x" * 10_001})
    long_name = client.post("/outreach/", {**base, "handles": "a", "name": "n" * 121})
    bad_days = client.post("/outreach/", {**base, "handles": "a", "follow_up_days": "-4"})

    assert bad_handle.status_code == no_handles.status_code == too_long.status_code == 422
    assert "is not a handle" in bad_handle.content.decode()
    assert "&lt;script&gt;" in bad_handle.content.decode()
    assert "Add at least one handle." in no_handles.content.decode()
    assert "at most 10000 characters" in too_long.content.decode()
    assert long_name.status_code == bad_days.status_code == 422
    assert "1 to 120 characters" in long_name.content.decode()
    assert "Follow up after 0 to 60 days." in bad_days.content.decode()
    assert not OutreachList.objects.exists()


def test_agents_may_not_use_outreach(client, agent, x_account, manager):
    outreach = make_list(x_account, manager, ["ana"])
    client.force_login(agent)

    assert client.get("/outreach/").status_code == 403
    assert client.post(f"/outreach/{outreach.pk}/send/").status_code == 403
    assert b"/outreach/" not in client.get("/").content


def test_a_manager_sees_only_lists_of_accounts_their_teams_may_see(client, other_account, manager):
    stranger = UserFactory(username="zed", role="admin")
    hidden = make_list(other_account, stranger, ["ana"])
    client.force_login(manager)

    assert client.get(f"/outreach/{hidden.pk}/").status_code == 404
    assert client.post(f"/outreach/{hidden.pk}/send/").status_code == 404
    assert "Spring creators" not in client.get("/outreach/").content.decode()
    refused = client.post(
        "/outreach/",
        {"name": "Sneaky", "account": other_account.pk, "handles": "a", "first_message": "Hi"},
    )
    assert refused.status_code == 422
    assert not OutreachList.objects.filter(name="Sneaky").exists()
    assert hidden.recipients.get().status == Recipient.Status.PENDING


def test_the_list_page_costs_the_same_queries_for_3_or_30_handles(
    client, ig_account, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    lists = []
    for size in (3, 30):
        handles = [f"h{size}_{i}" for i in range(size)]
        for handle in handles[::2]:
            person(ig_account, handle, wrote=timedelta(hours=1), comment=True)
        lists.append(make_list(ig_account, manager, handles, name=f"List {size}"))
    client.get(f"/outreach/{lists[0].pk}/")  # warm caches (session, connectors)

    with CaptureQueriesContext(connection) as small:
        assert client.get(f"/outreach/{lists[0].pk}/").status_code == 200
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(f"/outreach/{lists[1].pk}/")
    assert page.content.decode().count("data-handle=") == 30
