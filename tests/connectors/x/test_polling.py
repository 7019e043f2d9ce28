"""Polling GET /2/dm_events against the fake X: pages, cursor, empty pages, rate limits, groups."""

from __future__ import annotations

import copy
import json
import time

import pytest
from django.core.management import call_command

from connectors.registry import get_connector
from inbox.models import Attachment, Conversation, Message, PlatformAccount
from inbox.polling import poll_accounts
from tests.connectors.x.conftest import ACCOUNT_ID, CUSTOMER_ID, fixture_bytes
from tests.fakes import x as fake_x
from tests.helpers import committed

pytestmark = pytest.mark.django_db

PAGE = json.loads(fixture_bytes("x_dm_events_page.json"))


@pytest.fixture
def polling_account(x_account):
    x_account.options = {"mode": "polling"}
    x_account.save()
    return x_account


def poll() -> dict[int, str]:
    """One polling pass, with what it schedules on commit (media downloads) run at its end."""
    with committed():
        return poll_accounts()


def load_page(page: dict, *, page_size: int = 2) -> None:
    fake_x.STATE.events[:] = copy.deepcopy(page["data"])
    fake_x.STATE.includes = copy.deepcopy(page.get("includes") or {})
    fake_x.STATE.page_size = page_size


def lookups(x_api) -> list:
    return x_api.sent("GET", r"^/x/2/dm_events$")


def test_only_accounts_in_polling_mode_are_polled(x_account, polling_account, x_api):
    connector = get_connector("x")
    assert connector.polls(polling_account)
    webhook_only = PlatformAccount.objects.create(
        platform="x", name="Hooked", external_id="42", options={"mode": "webhook"}
    )
    assert not connector.polls(webhook_only)

    outcomes = poll()

    assert set(outcomes) == {polling_account.pk}


def test_first_poll_pages_to_the_end_and_keeps_a_cursor(polling_account, x_api):
    load_page(PAGE)
    media_url = f"{x_api.url}/x/media/AbCdEfGh.jpg"
    fake_x.STATE.includes["media"][0]["url"] = media_url

    assert poll() == {polling_account.pk: "3 events"}

    requests = lookups(x_api)
    assert len(requests) == 2
    first = requests[0].query
    assert "pagination_token" not in first
    assert "dm_conversation_id" in first["dm_event.fields"][0]
    assert "referenced_tweets" in first["dm_event.fields"][0]
    assert first["expansions"] == [
        "attachments.media_keys,referenced_tweets.id,sender_id,participant_ids"
    ]
    assert requests[1].query["pagination_token"] == ["p2"]
    assert requests[0].headers["authorization"] == "Bearer x-token"

    polling_account.refresh_from_db()
    assert polling_account.poll_cursor == {"since_id": "1879234567890123456"}
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND).order_by("sent_at")
    assert [m.text for m in inbound] == [
        "Did you see this? https://x.com/i/status/1879001122334455667",
        "Here is a photo of the damaged box",
    ]
    shared = inbound[0]
    assert shared.metadata["referenced_posts"][0]["text"] == "Our spring mug collection is live!"
    photo = Attachment.objects.get()
    assert photo.url == media_url
    assert photo.file and photo.fetch_error == ""
    own = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert own.sent_outside_parley and own.sender_kind == Message.SenderKind.AGENT
    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == f"{ACCOUNT_ID}-{CUSTOMER_ID}"


def test_next_poll_stops_at_what_it_has_seen(polling_account, x_api):
    load_page(PAGE)
    poll()
    x_api.reset()
    newest = {
        "id": "1879250000000000001",
        "event_type": "MessageCreate",
        "text": "Any news?",
        "sender_id": CUSTOMER_ID,
        "dm_conversation_id": f"{ACCOUNT_ID}-{CUSTOMER_ID}",
        "created_at": "2026-01-01T11:00:00.000Z",
    }
    fake_x.STATE.events.insert(0, newest)

    assert poll() == {polling_account.pk: "1 events"}

    assert len(lookups(x_api)) == 1
    assert Message.objects.count() == 4
    polling_account.refresh_from_db()
    assert polling_account.poll_cursor["since_id"] == "1879250000000000001"


def test_polling_the_same_events_twice_makes_no_duplicates(polling_account, x_api):
    load_page(PAGE, page_size=10)
    poll()
    polling_account.poll_cursor = {}
    polling_account.save()

    poll()

    assert Message.objects.count() == 3


def test_an_empty_page_like_x_sends_is_fine(polling_account, x_api):
    assert json.loads(fixture_bytes("x_dm_events_empty.json")) == {"meta": {"result_count": 0}}

    assert poll() == {polling_account.pk: "0 events"}

    polling_account.refresh_from_db()
    assert polling_account.poll_cursor == {}
    assert polling_account.last_error == ""


def test_empty_pages_with_a_next_token_are_paged_through(polling_account, x_api):
    load_page(PAGE, page_size=3)
    fake_x.STATE.empty_pages_first = 2
    fake_x.STATE.next_on_last = True

    assert poll() == {polling_account.pk: "3 events"}

    # two empty pages, the data page, and the empty page its trailing next_token led to
    assert len(lookups(x_api)) == 4
    polling_account.refresh_from_db()
    assert polling_account.poll_cursor == {"since_id": "1879234567890123456"}


def test_exhausted_rate_limit_waits_for_the_reset_then_resumes(polling_account, x_api):
    load_page(PAGE, page_size=1)
    fake_x.STATE.remaining = 2
    fake_x.STATE.reset_at = int(time.time()) + 600

    poll()

    assert len(lookups(x_api)) == 2
    polling_account.refresh_from_db()
    cursor = polling_account.poll_cursor
    assert cursor["wait_until"] == pytest.approx(fake_x.STATE.reset_at, abs=2)
    assert cursor["resume_token"] == "p2"
    assert cursor["run_top_id"] == "1879234567890123456"
    assert Message.objects.count() == 2

    # Before the reset: no request at all (X would refuse it).
    poll()
    assert len(lookups(x_api)) == 2

    # The window resets: the pass resumes where it stopped and finishes.
    fake_x.STATE.remaining = 15
    PlatformAccount.objects.filter(pk=polling_account.pk).update(
        poll_cursor={**cursor, "wait_until": time.time() - 1}
    )
    poll()

    assert lookups(x_api)[-1].query["pagination_token"] == ["p2"]
    assert Message.objects.count() == 3
    polling_account.refresh_from_db()
    assert polling_account.poll_cursor == {"since_id": "1879234567890123456"}


def test_429_with_reset_headers_is_waited_out_not_an_error(polling_account, x_api):
    load_page(PAGE)
    fake_x.STATE.remaining = 0
    fake_x.STATE.reset_at = int(time.time()) + 300

    assert poll() == {polling_account.pk: "0 events"}

    polling_account.refresh_from_db()
    assert polling_account.poll_cursor["wait_until"] == pytest.approx(fake_x.STATE.reset_at, abs=2)
    assert polling_account.last_error == ""


def test_poll_accounts_command_runs_one_pass(polling_account, x_api, capsys):
    load_page(PAGE, page_size=10)

    with committed():
        call_command("poll_accounts", "--account", str(polling_account.pk))

    assert f"account {polling_account.pk}: 3 events" in capsys.readouterr().out
    assert Message.objects.count() == 3


def test_revoked_token_is_reported_on_the_account(polling_account, x_api):
    from tests.fakes.server import Reply

    x_api.script(
        "GET",
        r"^/x/2/dm_events$",
        Reply(
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        ),
    )

    outcome = poll()[polling_account.pk]

    assert outcome.startswith("failed: X refused the account's access token")
    polling_account.refresh_from_db()
    assert "reconnect" in polling_account.last_error


def test_group_conversation_with_join_and_leave_as_system_messages(polling_account, x_api):
    load_page(json.loads(fixture_bytes("x_dm_events_group.json")), page_size=10)

    poll()

    conversation = Conversation.objects.get()
    assert conversation.kind == Conversation.Kind.GROUP
    assert conversation.external_thread_id == "1582838213988016128"
    texts = list(conversation.messages.order_by("sent_at").values_list("sender_kind", "text"))
    assert texts == [
        (Message.SenderKind.SYSTEM, "@samokafor joined the conversation (added by @danarivera_)"),
        (Message.SenderKind.CONTACT, "Can we get the wholesale price list?"),
        (Message.SenderKind.SYSTEM, "@samokafor left the conversation"),
    ]
    assert list(conversation.participants.values_list("platform_user_id", flat=True)) == [
        CUSTOMER_ID
    ]


def test_newer_schema_referenced_posts_and_nested_entities(polling_account, x_api):
    load_page(json.loads(fixture_bytes("x_dm_events_page__v2167.json")))

    poll()

    message = Message.objects.get()
    assert message.text == (
        "Saw this https://x.com/examplemugs/status/1879001122334455667 "
        "and this guide https://example-mugs.com/care-guide"
    )
    assert message.metadata["referenced_posts"] == [
        {
            "id": "1879001122334455667",
            "text": "Our spring mug collection is live!",
            "url": "https://x.com/i/status/1879001122334455667",
        }
    ]


def test_a_pass_that_refreshed_the_token_keeps_it_when_a_later_page_fails(
    polling_account, x_api, settings
):
    from django.utils import timezone

    from tests.fakes.server import Reply

    settings.X_CLIENT_ID = "fake-x-client"
    polling_account.credentials = {
        **polling_account.credentials,
        "refresh_token": "r1",
        "expires_at": timezone.now().isoformat(),
    }
    polling_account.save()
    x_api.script(
        "POST",
        r"^/x/2/oauth2/token$",
        Reply(200, {"access_token": "x-token-2", "refresh_token": "r2", "expires_in": 7200}),
    )
    first_page = {**copy.deepcopy(PAGE), "data": PAGE["data"][:1]}
    first_page["meta"] = {"result_count": 1, "next_token": "p1"}
    x_api.script(
        "GET",
        r"^/x/2/dm_events$",
        Reply(200, first_page),
        Reply(503, {"title": "Service Unavailable", "status": 503}),
    )

    outcome = poll()[polling_account.pk]

    assert outcome == "1 events"
    polling_account.refresh_from_db()
    assert polling_account.credentials["access_token"] == "x-token-2"
    assert polling_account.credentials["refresh_token"] == "r2"
    assert "unavailable" in polling_account.last_error
    assert polling_account.poll_cursor["resume_token"] == "p1"
    assert Message.objects.count() == 1


def test_a_403_on_lookup_names_a_permission_not_a_dm_refusal(polling_account, x_api):
    from tests.fakes.server import Reply

    x_api.script(
        "GET", r"^/x/2/dm_events$", Reply(403, json.loads(fixture_bytes("x_error_403.json")))
    )

    outcome = poll()[polling_account.pk]

    assert outcome.startswith("failed: X refused the request (HTTP 403)")
    assert "dm.read" in outcome


def test_the_connector_returns_the_cursor_and_the_domain_keeps_it(polling_account, x_api):
    load_page(PAGE)

    result = get_connector("x").poll(polling_account)

    # The connector only speaks the platform: nothing written yet.
    assert len(result.events) == 3 and result.cursor == {"since_id": "1879234567890123456"}
    polling_account.refresh_from_db()
    assert polling_account.poll_cursor == {}
    assert not Message.objects.exists()
