"""Email digests through a real local SMTP server: mentions and SLA breaches that reached an
agent while offline, one email per agent once the oldest is old enough; nothing for an agent
who is online, who read them, or who turned email off; a failed send is retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from inbox import services
from notifications import services as notifications
from notifications.digest import send_due_digests
from notifications.models import Notification
from notifications.tasks import send_email_digests
from parley.celery import PERIODIC_TASKS
from tests.helpers import committed, online
from tests.notifications.conftest import T0, sla_pass

pytestmark = pytest.mark.django_db


@pytest.fixture
def addresses(agent, teammate):
    for user in (agent, teammate):
        user.email = f"{user.username}@example.com"
        user.save()


def mention(conversation, author, text: str) -> None:
    with committed():
        services.add_note(conversation=conversation, author=author, text=text)


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_mentions_and_a_breach_while_offline_arrive_as_one_digest(
    smtp_server, late_conversation, agent, teammate, addresses
):
    with committed():
        services.assign(conversation=late_conversation, actor=teammate, assignee=agent)
    mention(late_conversation, teammate, "@alice the customer asked for a <b>refund</b>")
    mention(late_conversation, teammate, "@alice and the parcel is lost")
    sla_pass(61)

    # Too soon: the digest waits for more.
    assert send_due_digests(now=T0 + timedelta(minutes=5)) == 0
    assert smtp_server.messages == []

    assert send_due_digests(now=T0 + timedelta(minutes=10)) == 1
    [message] = smtp_server.messages
    assert message.envelope_to == ["alice@example.com"]
    assert message["Subject"] == "Parley: 3 notifications while you were away"
    text = body(message)
    assert "Bob mentioned you (conversation with Cust-Late): “@alice the customer asked" in text
    assert "@alice and the parcel is lost" in text
    assert "SLA breached: first response for Cust-Late" in text
    assert f"https://inbox.example.com/conversations/{late_conversation.pk}/" in text
    assert "assigned you" not in text  # an assignment is not mailed
    html = message.get_body(preferencelist=("html",)).get_content()
    # What people typed is text in the email, never markup.
    assert "a &lt;b&gt;refund&lt;/b&gt;" in html and "<b>refund" not in html

    # Each is mailed once.
    assert send_due_digests(now=T0 + timedelta(minutes=30)) == 0
    assert len(smtp_server.messages) == 1
    assert Notification.objects.filter(kind="mention", emailed_at__isnull=False).count() == 2


def test_no_email_for_an_agent_who_is_online(
    smtp_server, late_conversation, agent, teammate, addresses
):
    online(agent)
    mention(late_conversation, teammate, "@alice look")
    assert send_due_digests(now=T0 + timedelta(hours=1)) == 0
    assert smtp_server.messages == []
    assert Notification.objects.get(kind="mention").user == agent  # the bell still has it


def test_what_was_read_before_the_digest_is_left_out(
    smtp_server, late_conversation, agent, teammate, addresses
):
    mention(late_conversation, teammate, "@alice first")
    mention(late_conversation, teammate, "@alice second")
    first = Notification.objects.filter(kind="mention").order_by("id").first()
    notifications.mark_read(user=agent, ids=[first.pk])
    assert send_due_digests(now=T0 + timedelta(hours=1)) == 1
    text = body(smtp_server.messages[0])
    assert "@alice second" in text and "@alice first" not in text
    assert smtp_server.messages[0]["Subject"] == "Parley: 1 notification while you were away"


def test_no_email_for_an_agent_who_turned_it_off(
    smtp_server, late_conversation, agent, teammate, addresses
):
    notifications.set_preferences(
        user=agent, browser=True, sound=True, email=False, watched_teams=[]
    )
    mention(late_conversation, teammate, "@alice look")
    assert send_due_digests(now=T0 + timedelta(hours=1)) == 0
    assert smtp_server.messages == []


def test_nothing_waits_for_email_when_the_server_has_none(
    settings, late_conversation, agent, teammate, addresses
):
    settings.NOTIFICATION_EMAIL_ENABLED = False
    mention(late_conversation, teammate, "@alice look")
    assert not Notification.objects.filter(email_pending=True).exists()


def test_a_digest_that_could_not_be_sent_goes_with_the_next_pass(
    settings, smtp_server, late_conversation, agent, teammate, addresses
):
    mention(late_conversation, teammate, "@alice while the mail server was down")
    smtp_server.controller.stop()
    assert send_due_digests(now=T0 + timedelta(hours=1)) == 0
    assert Notification.objects.get(kind="mention").email_pending
    # The server is back; the next periodic pass (as beat runs it) sends it.
    smtp_server.controller = Controller(
        smtp_server, hostname="127.0.0.1", port=smtp_server.controller.port
    )
    smtp_server.controller.start()
    settings.NOTIFICATION_DIGEST_MINUTES = 0  # the test's clock stands still at T0
    assert send_email_digests() == 1
    assert "@alice while the mail server was down" in body(smtp_server.messages[0])


def test_the_digest_is_a_periodic_task():
    assert PERIODIC_TASKS["notification-email-digests"] == (
        "notifications.tasks.send_email_digests",
        60.0,
    )
