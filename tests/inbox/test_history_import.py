"""Importing an account's history (``inbox.history``) from the fake platforms over HTTP: Meta's
Conversations API, X's ``dm_events`` and LinkedIn's posts and comments. The history arrives as
closed history, once, resumes where it stopped and waits out rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chatbot.models import BotSettings, Rule
from connectors.base import MessageReceived, Person
from inbox import history, services
from inbox.models import Conversation, HistoryImport, Message
from inbox.settings_area.models import AuditLog
from inbox.tasks import start_history_import
from reports import metrics
from reports.models import ConversationMetric
from sla.models import SlaPolicy
from tests.factories import AccountFactory
from tests.fakes import linkedin as fake_linkedin
from tests.fakes import meta as fake_meta
from tests.fakes import x as fake_x
from tests.fakes.meta import error_body
from tests.fakes.server import Reply
from tests.helpers import committed

CUSTOMER = {"id": "24012345678901234", "name": "Maya Thompson"}
PAGE = {"id": fake_meta.PAGE_ID, "name": fake_meta.PAGE_NAME}


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def from_customer(mid: str, text: str, at, customer=CUSTOMER) -> dict:
    return {
        "id": mid,
        "created_time": iso(at),
        "from": customer,
        "to": {"data": [PAGE]},
        "message": text,
    }


def from_page(mid: str, text: str, at, customer=CUSTOMER) -> dict:
    return {
        "id": mid,
        "created_time": iso(at),
        "from": PAGE,
        "to": {"data": [customer]},
        "message": text,
    }


@pytest.fixture
def meta_history(fake_platforms):
    fake_meta.HISTORY.reset()
    yield fake_meta.HISTORY
    fake_meta.HISTORY.reset()


@pytest.fixture
def messenger(team, fake_platforms):
    account = AccountFactory(
        platform="messenger",
        external_id=fake_meta.PAGE_ID,
        name=fake_meta.PAGE_NAME,
        credentials={"page_access_token": "EAAG-page-token"},
    )
    team.accounts.add(account)
    return account


def run_to_the_end(job: HistoryImport, *, limit: int = 50) -> HistoryImport:
    """The pages a worker would run, one after the other."""
    for _ in range(limit):
        with committed():
            due = history.import_page(job.pk)
        if due is None or due > timezone.now():
            break
    job.refresh_from_db()
    return job


def test_messenger_history_arrives_as_closed_history_in_its_threads(
    messenger, meta_history, admin_user, fake_platforms
):
    now = timezone.now()
    BotSettings.objects.create(account=messenger, greeting="Hi {first_name}!")
    Rule.objects.create(account=messenger, name="Refunds", triggers="refund", response="30 days.")
    SlaPolicy.objects.create(name="Everyone", first_response_seconds=600)
    meta_history.messages_per_call = 2  # the thread's messages come over three calls
    meta_history.add(
        "t_100",
        [
            from_customer("m_1", "Can I get a refund?", now - timedelta(days=3, hours=2)),
            from_page("m_2", "Yes, within 30 days.", now - timedelta(days=3, hours=1)),
            from_customer("m_3", "Thanks!", now - timedelta(days=3)),
            from_customer("m_4", "One more thing", now - timedelta(days=2)),
            from_page("m_5", "Sure", now - timedelta(days=2) + timedelta(minutes=5)),
        ],
    )
    other = {"id": "24099999999999999", "name": "Kenji Watanabe"}
    meta_history.add(
        "t_200", [from_customer("m_6", "Is it dishwasher safe?", now - timedelta(days=1), other)]
    )
    # Last updated before the import's period: not read.
    meta_history.add("t_300", [from_customer("m_7", "Old news", now - timedelta(days=45))])

    with committed():
        job = start_history_import(account=messenger, actor=admin_user)
    job = run_to_the_end(job)

    assert job.status == HistoryImport.Status.DONE
    assert (job.items, job.stored) == (6, 6)
    assert job.pages == 2 and history.progress(job).fraction == 1.0
    stored = Message.objects.filter(account=messenger).order_by("sent_at")
    assert [m.external_id for m in stored] == ["m_1", "m_2", "m_3", "m_4", "m_5", "m_6"]
    assert all(m.imported for m in stored)
    assert [m.direction for m in stored[:2]] == ["inbound", "outbound"]
    assert stored[1].sent_outside_parley and stored[1].status == "sent"
    # One conversation per customer, resolved, in nobody's queue, no clock, no bot.
    conversations = Conversation.objects.filter(account=messenger)
    assert conversations.count() == 2
    for conversation in conversations:
        assert conversation.status == Conversation.Status.RESOLVED
        assert conversation.waiting_since is None
        assert conversation.assignee_id is None
        assert conversation.sla_due_at is None and conversation.first_response_due_at is None
        assert conversation.bot_enabled
    assert not Message.objects.filter(sender_kind="bot").exists()
    assert not ConversationMetric.objects.filter(conversation__account=messenger).exists()
    maya = conversations.get(contact__name="Maya Thompson")
    assert maya.last_message_preview == "Sure"
    assert not Message.objects.filter(external_id="m_7").exists()
    assert set(
        AuditLog.objects.filter(target_id=str(messenger.pk)).values_list("action", flat=True)
    ) >= {"account.history_import_started", "account.history_import_finished"}
    # Every request carried the token and asked for the Messenger platform's threads.
    listed = fake_platforms.sent("GET", r"/me/conversations$")
    assert listed and listed[0].query["platform"] == ["messenger"]


def test_importing_twice_stores_nothing_twice_and_a_webhook_copy_is_the_same_message(
    messenger, meta_history, admin_user
):
    now = timezone.now()
    meta_history.add("t_1", [from_customer("m_1", "Hello", now - timedelta(hours=3))])
    first = run_to_the_end(history.start(account=messenger, actor=admin_user))
    second = run_to_the_end(history.start(account=messenger, actor=admin_user))
    assert (first.stored, second.stored, second.items) == (1, 0, 1)
    with committed():
        services.receive_messages(
            messenger,
            [
                MessageReceived(
                    platform="messenger",
                    account_external_id=messenger.external_id,
                    timestamp=now - timedelta(hours=3),
                    external_id="m_1",
                    sender=Person(platform_user_id=CUSTOMER["id"]),
                    text="Hello",
                )
            ],
        )
    assert Message.objects.filter(external_id="m_1").count() == 1


def test_a_customer_writing_after_the_import_opens_the_thread_and_only_that_counts(
    messenger, meta_history, admin_user
):
    now = timezone.now()
    meta_history.add(
        "t_1",
        [
            from_customer("m_1", "Old question", now - timedelta(days=2)),
            from_page("m_2", "Old answer", now - timedelta(days=2) + timedelta(minutes=30)),
        ],
    )
    run_to_the_end(history.start(account=messenger, actor=admin_user))
    conversation = Conversation.objects.get(account=messenger)
    with committed():
        services.receive_messages(
            messenger,
            [
                MessageReceived(
                    platform="messenger",
                    account_external_id=messenger.external_id,
                    timestamp=now,
                    external_id="m_live",
                    sender=Person(platform_user_id=CUSTOMER["id"]),
                    text="A new question",
                )
            ],
        )
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.waiting_since is not None
    openings = metrics.refresh(conversation.pk)
    # The imported exchange (a 30-minute first response) is not an opening in the reports.
    assert len(openings) == 1
    assert openings[0].opened_at >= now - timedelta(seconds=1)
    assert openings[0].first_response_at is None


def test_a_rate_limit_makes_the_import_wait_then_it_resumes_at_its_cursor(
    messenger, meta_history, admin_user, fake_platforms
):
    now = timezone.now()
    for n in range(5):
        meta_history.add(
            f"t_{n}", [from_customer(f"m_{n}", f"Message {n}", now - timedelta(days=n + 1))]
        )
    job = history.start(account=messenger, actor=admin_user)
    with committed():
        assert history.import_page(job.pk) is not None  # page 1: t_0, t_1
    fake_platforms.script(
        "GET",
        r"/me/conversations$",
        Reply(400, error_body(4, None, "Application request limit reached")),
    )
    with committed():
        due = history.import_page(job.pk)
    job.refresh_from_db()
    assert job.status == HistoryImport.Status.WAITING
    assert due == job.not_before and due > timezone.now()
    assert "rate limit" in job.error
    assert history.progress(job).active
    # Nothing runs before the platform's wait is over...
    assert history.import_page(job.pk) == job.not_before
    # ...then the import goes on from its saved cursor, not from the start.
    HistoryImport.objects.filter(pk=job.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    job = run_to_the_end(job)
    assert job.status == HistoryImport.Status.DONE and job.stored == 5
    afters = [
        r.query.get("after", [""])[0] for r in fake_platforms.sent("GET", r"/me/conversations$")
    ]
    assert afters == ["", "c2", "c2", "c4"]


def test_a_lost_page_task_is_found_by_the_sweep_and_a_refused_token_fails_the_import(
    messenger, meta_history, admin_user, fake_platforms
):
    job = history.start(account=messenger, actor=admin_user)
    assert list(history.resumable()) == []
    HistoryImport.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - history.STALLED_AFTER - timedelta(seconds=1)
    )
    assert list(history.resumable()) == [job]
    fake_platforms.script(
        "GET",
        r"/me/conversations$",
        Reply(400, error_body(190, 460, "The session was invalidated")),
    )
    assert history.import_page(job.pk) is None
    job.refresh_from_db()
    assert job.status == HistoryImport.Status.FAILED and job.error
    assert list(history.resumable()) == []
    assert AuditLog.objects.filter(action="account.history_import_failed").exists()


def test_one_import_runs_per_account_and_an_account_without_a_token_has_none(messenger, admin_user):
    first = history.start(account=messenger, actor=admin_user)
    assert history.start(account=messenger, actor=admin_user) == first
    bare = AccountFactory(platform="messenger", external_id="555", credentials={})
    with pytest.raises(history.ImportRefused):
        history.start(account=bare, actor=admin_user)
    sandbox = AccountFactory(platform="sandbox", external_id="sb")
    assert not history.available(sandbox)


def test_x_history_reads_dm_events_back_to_the_period_start(team, admin_user, fake_platforms):
    fake_x.STATE.reset()
    account = AccountFactory(
        platform="x", external_id=fake_x.ACCOUNT_ID, credentials={"access_token": "x-token"}
    )
    customer = "1489123456789012480"
    thread = (
        f"{fake_x.ACCOUNT_ID}-{customer}"
        if int(fake_x.ACCOUNT_ID) < int(customer)
        else f"{customer}-{fake_x.ACCOUNT_ID}"
    )
    now = timezone.now()

    def dm(event_id: str, sender: str, text: str, at) -> dict:
        return {
            "id": event_id,
            "event_type": "MessageCreate",
            "text": text,
            "sender_id": sender,
            "dm_conversation_id": thread,
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }

    fake_x.STATE.events[:] = [
        dm(
            "1900000000000000004",
            fake_x.ACCOUNT_ID,
            "We'll send a new one",
            now - timedelta(days=1),
        ),
        dm("1900000000000000003", customer, "It arrived broken", now - timedelta(days=2)),
        dm("1900000000000000002", customer, "Hi there", now - timedelta(days=3)),
        dm("1900000000000000001", customer, "Too old", now - timedelta(days=40)),
    ]
    fake_x.STATE.includes = {"users": [{"id": customer, "name": "Kenji", "username": "kenji"}]}
    job = run_to_the_end(history.start(account=account, actor=admin_user))
    fake_x.STATE.reset()
    assert job.status == HistoryImport.Status.DONE
    texts = list(
        Message.objects.filter(account=account).order_by("sent_at").values_list("text", "direction")
    )
    assert texts == [
        ("Hi there", "inbound"),
        ("It arrived broken", "inbound"),
        ("We'll send a new one", "outbound"),
    ]
    conversation = Conversation.objects.get(account=account)
    assert conversation.status == Conversation.Status.RESOLVED
    assert conversation.external_thread_id == thread


def test_linkedin_history_reads_the_comments_on_recent_posts(team, admin_user, fake_platforms):
    org = f"urn:li:organization:{fake_linkedin.ORGANIZATION_ID}"
    account = AccountFactory(
        platform="linkedin", external_id=org, credentials={"access_token": "li-token"}
    )
    now = timezone.now()
    ms = lambda moment: int(moment.timestamp() * 1000)  # noqa: E731
    recent, old = "urn:li:activity:7000000000000000001", "urn:li:activity:6000000000000000001"
    fake_linkedin.POSTS[:] = [
        {"id": recent, "lastModifiedAt": ms(now - timedelta(days=1)), "commentary": "New mugs!"},
        {"id": old, "lastModifiedAt": ms(now - timedelta(days=90)), "commentary": "Old post"},
    ]
    fake_linkedin.COMMENTS[recent] = [
        {
            "$URN": f"urn:li:comment:({recent},{n})",
            "actor": org if n == 3 else f"urn:li:person:p{n}",
            "message": {"text": f"Comment {n}"},
            "created": {"time": ms(now - timedelta(hours=10 - n))},
        }
        for n in range(1, 4)
    ]
    fake_linkedin.COMMENTS[old] = [
        {
            "$URN": f"urn:li:comment:({old},9)",
            "actor": "urn:li:person:p9",
            "message": {"text": "Never read"},
            "created": {"time": ms(now - timedelta(days=90))},
        }
    ]
    try:
        job = run_to_the_end(history.start(account=account, actor=admin_user))
    finally:
        fake_linkedin.POSTS.clear()
        fake_linkedin.COMMENTS.clear()
    assert job.status == HistoryImport.Status.DONE
    stored = Message.objects.filter(account=account).order_by("sent_at")
    assert [(m.text, m.direction) for m in stored] == [
        ("Comment 1", "inbound"),
        ("Comment 2", "inbound"),
        ("Comment 3", "outbound"),
    ]
    conversation = Conversation.objects.get(account=account)
    assert (conversation.kind, conversation.external_thread_id) == ("comment", recent)
    assert stored[0].metadata["post_text"] == "New mugs!"
    assert not Message.objects.filter(text="Never read").exists()


def test_the_account_page_shows_the_import_and_only_admins_start_it(
    client, messenger, meta_history, admin_user, agent
):
    meta_history.add("t_1", [from_customer("m_1", "Hello", timezone.now() - timedelta(hours=1))])
    client.force_login(agent)
    assert client.post(f"/settings/accounts/{messenger.pk}/history/").status_code == 403
    assert client.get(f"/settings/accounts/{messenger.pk}/history/").status_code == 403
    client.force_login(admin_user)
    page = client.get(f"/settings/accounts/{messenger.pk}/")
    assert b'id="history-start"' in page.content
    assert client.get(f"/settings/accounts/{messenger.pk}/history/").json() == {"import": None}
    with committed():
        response = client.post(f"/settings/accounts/{messenger.pk}/history/")
    assert response.status_code == 302
    job = HistoryImport.objects.get(account=messenger)
    progress = client.get(f"/settings/accounts/{messenger.pk}/history/").json()["import"]
    assert progress["status"] == "running" and progress["active"]
    assert "0 items read" in progress["summary"]
    page = client.get(f"/settings/accounts/{messenger.pk}/")
    assert b'id="history-progress"' in page.content and b'id="history-cancel"' in page.content
    with committed():
        client.post(f"/settings/accounts/{messenger.pk}/history/cancel/")
    job.refresh_from_db()
    assert job.status == HistoryImport.Status.CANCELLED
    assert history.import_page(job.pk) is None
