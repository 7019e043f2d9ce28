"""Sending: the normal delivery path to the platform fakes, spaced at the platform's rate,
pause and resume, opt-outs in the middle, and the report per recipient."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Recipient
from campaigns.report import rows, summary
from chatbot.engine import set_consent
from inbox.delivery import deliver
from inbox.models import Contact, Conversation, Message
from tests.campaigns.conftest import person
from tests.contacts.helpers import writes
from tests.fakes.meta import PNG, error_body
from tests.fakes.server import Reply
from tests.helpers import committed

pytestmark = pytest.mark.django_db

META_SEND = r"^/meta/.*/messages$"


def started(account, manager, *, now=None, text="Hi {first_name}, 20% off this week"):
    campaign = services.create(
        name="Winter sale", account=account, text=text, audience_filters={}, actor=manager
    )
    return services.start(campaign=campaign, actor=manager, now=now)


def statuses(campaign) -> dict[int, str]:
    return {r.recipient.contact_id: r.status for r in rows(campaign)}


def test_messages_go_through_delivery_to_the_platform_with_variables(
    messenger, manager, fake_platforms
):
    ana = person(messenger, name="Ana Silva")
    person(messenger, consent=Contact.Consent.UNKNOWN)

    campaign = started(messenger, manager)
    with committed():
        assert services.advance() == 1

    posts = fake_platforms.sent("POST", META_SEND)
    assert [p.json()["message"]["text"] for p in posts] == ["Hi Ana, 20% off this week"]
    message = Message.objects.get(metadata__campaign=campaign.pk)
    assert message.is_promotional
    assert message.status == Message.Status.SENT
    assert message.conversation.contact_id == ana.pk
    assert statuses(campaign)[ana.pk] == "sent"
    assert summary(rows(campaign)).counts["skipped"] == 1


def test_recipients_are_spaced_at_the_platforms_rate(x_account, manager, fake_platforms):
    contacts = [person(x_account) for _ in range(3)]
    now = timezone.now()

    campaign = started(x_account, manager, now=now)

    # X allows 15 DMs per 15 minutes; campaigns take half of it: one every two minutes.
    spacing = 1 / services.send_rate(x_account)
    assert spacing == pytest.approx(120)
    due = list(Recipient.objects.filter(campaign=campaign).order_by("due_at"))
    assert [(r.due_at - now).total_seconds() for r in due] == pytest.approx([0, 120, 240])
    with committed():
        assert services.advance(now=now + timedelta(seconds=1)) == 1
    assert len(fake_platforms.sent("POST", r"^/x/2/dm_conversations/with/")) == 1
    with committed():
        assert services.advance(now=now + timedelta(seconds=241)) == 2
    assert len(fake_platforms.sent("POST", r"^/x/2/dm_conversations/with/")) == 3
    assert set(statuses(campaign).values()) == {"sent"}
    services.advance(now=now + timedelta(seconds=300))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE
    assert {c.pk for c in contacts} == set(statuses(campaign))


def test_instagram_campaign_sends_one_message_per_person_beyond_15(
    instagram, manager, fake_platforms
):
    # The 15-recipient limit is for one message naming several people; a campaign sends each
    # person their own message, so 20 opted-in customers who wrote get 20 messages.
    for _ in range(20):
        person(instagram)

    campaign = started(instagram, manager)
    with committed():
        services.advance(now=timezone.now() + timedelta(seconds=5))

    posts = fake_platforms.sent("POST", META_SEND)
    assert len(posts) == 20
    assert len({p.json()["recipient"]["id"] for p in posts}) == 20
    assert set(statuses(campaign).values()) == {"sent"}


def test_pause_stops_sending_and_resume_goes_on_without_a_burst(x_account, manager):
    for _ in range(3):
        person(x_account)
    now = timezone.now()
    campaign = started(x_account, manager, now=now)
    with committed():
        services.advance(now=now)

    services.pause(campaign=campaign, actor=manager)
    with committed():
        assert services.advance(now=now + timedelta(hours=1)) == 0
    assert Message.objects.filter(metadata__campaign=campaign.pk).count() == 1

    later = now + timedelta(hours=2)
    services.resume(campaign=campaign, actor=manager, now=later)
    due = sorted(
        Recipient.objects.filter(campaign=campaign, state=Recipient.State.PENDING).values_list(
            "due_at", flat=True
        )
    )
    assert [(d - later).total_seconds() for d in due] == pytest.approx([0, 120])
    with committed():
        assert services.advance(now=later) == 1
    assert Message.objects.filter(metadata__campaign=campaign.pk).count() == 2


def test_an_opt_out_mid_campaign_stops_further_sends_to_that_contact(
    x_account, manager, fake_platforms
):
    first, second = person(x_account, name="Ana"), person(x_account, name="Ben")
    now = timezone.now()
    campaign = started(x_account, manager, now=now)
    with committed():
        services.advance(now=now)  # Ana's turn

    # Ben writes STOP before his turn: the chatbot records the opt-out.
    identity = second.identities.get()
    with committed():
        writes(x_account, identity.platform_user_id, "STOP")
    second.refresh_from_db()
    assert second.marketing_consent == Contact.Consent.OPTED_OUT

    with committed():
        assert services.advance(now=now + timedelta(hours=1)) == 0
    assert not Message.objects.filter(
        metadata__campaign=campaign.pk, conversation__contact=second
    ).exists()
    found = {r.recipient.contact_id: r for r in rows(campaign)}
    assert found[first.pk].status == "sent"
    assert (found[second.pk].status, found[second.pk].reason) == ("skipped", "opted_out")


def test_an_opt_out_after_queueing_stops_the_message_at_delivery(messenger, manager):
    contact = person(messenger)
    campaign = started(messenger, manager)
    services.advance()  # queued, not yet delivered (no commit yet)
    message = Message.objects.get(metadata__campaign=campaign.pk)
    set_consent(
        contact=contact,
        conversation=message.conversation,
        state=Contact.Consent.OPTED_OUT,
        source="test",
    )
    assert deliver(message.pk) == Message.Status.FAILED
    message.refresh_from_db()
    assert "not opted in" in message.error


def test_report_counts_replies_opt_outs_and_failures_with_their_reason(
    messenger, manager, fake_platforms
):
    replier, quitter, failing = (person(messenger, name=n) for n in ("Ana", "Ben", "Cy"))
    # Sent in turn: the first two go through, the platform refuses the third.
    fake_platforms.script(
        "POST",
        META_SEND,
        Reply(200, {"recipient_id": "a", "message_id": "m_a"}),
        Reply(200, {"recipient_id": "b", "message_id": "m_b"}),
        Reply(400, error_body(551, 1545041, "This person isn't available right now.")),
    )
    campaign = started(messenger, manager, now=timezone.now() - timedelta(seconds=1))
    with committed():
        services.advance()

    with committed():
        writes(messenger, replier.identities.get().platform_user_id, "Nice, is it on mugs too?")
    with committed():
        writes(messenger, quitter.identities.get().platform_user_id, "stop")

    found = {r.recipient.contact_id: r for r in rows(campaign)}
    assert found[replier.pk].status == "replied"
    assert found[quitter.pk].status == "opted_out"
    assert found[failing.pk].status == "failed"
    assert "isn't available" in found[failing.pk].reason
    totals = summary(list(found.values()))
    assert totals.reply_rate == pytest.approx(1 / 2)
    assert totals.opt_out_rate == pytest.approx(1 / 2)


def test_a_scheduled_campaign_starts_at_its_time(x_account, manager):
    person(x_account)
    now = timezone.now()
    campaign = services.create(
        name="Later",
        account=x_account,
        text="Soon",
        audience_filters={},
        send_at=now + timedelta(hours=1),
        actor=manager,
    )
    campaign = services.start(campaign=campaign, actor=manager, now=now)
    assert campaign.status == Campaign.Status.SCHEDULED
    with committed():
        assert services.advance(now=now + timedelta(minutes=30)) == 0
    assert not Recipient.objects.filter(campaign=campaign).exists()
    with committed():
        assert services.advance(now=now + timedelta(hours=1, seconds=1)) == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert Conversation.objects.filter(account=x_account).count() == 1


def test_media_goes_with_each_message_as_a_signed_link(
    messenger, manager, fake_platforms, settings
):
    settings.PUBLIC_BASE_URL = "https://parley.example"
    person(messenger, name="Ana Silva")
    campaign = services.create(
        name="With a picture",
        account=messenger,
        text="New mugs!",
        audience_filters={},
        media=SimpleUploadedFile("mug.png", PNG, content_type="image/png"),
        actor=manager,
    )
    services.start(campaign=campaign, actor=manager, now=timezone.now() - timedelta(seconds=1))
    with committed():
        services.advance()

    bodies = [p.json() for p in fake_platforms.sent("POST", META_SEND)]
    attachment = next(b["message"]["attachment"] for b in bodies if "attachment" in b["message"])
    assert attachment["type"] == "image"
    assert attachment["payload"]["url"].startswith("https://parley.example/")
    message = Message.objects.get(metadata__campaign=campaign.pk)
    assert message.attachments.get().file.read() == PNG
