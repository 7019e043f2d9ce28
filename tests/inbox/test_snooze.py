"""Snooze presets in the agent's own time zone: never the same time twice, 9:00 local across DST,
and a snooze set in Tokyo wakes at 9:00 Tokyo time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from inbox import services, snooze
from inbox.models import Conversation
from tests.factories import ConversationFactory

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def by_key(zone: ZoneInfo, now: datetime) -> dict[str, datetime]:
    return {key: when.astimezone(zone) for key, _, when in snooze.presets(zone, now)}


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, TOKYO], ids=str)
@pytest.mark.parametrize("day", range(7), ids=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
@pytest.mark.parametrize("hour", [0, 8, 17, 23])
def test_presets_on_every_weekday_never_repeat_a_time_and_mean_local_9(zone, day, hour):
    now = local(zone, 2026, 11, 23 + day, hour, 0)  # 23 November 2026 is a Monday
    presets = snooze.presets(zone, now)
    minutes = [when.replace(second=0, microsecond=0) for _, _, when in presets]
    labels = [label for _, label, _ in presets]
    assert len(set(minutes)) == len(minutes), labels
    assert minutes == sorted(minutes) and minutes[0] > now
    chosen = by_key(zone, now)
    assert (chosen["tomorrow"].date(), chosen["tomorrow"].hour) == (
        (now + timedelta(days=1)).date(),
        9,
    )
    # Sunday's "Next Monday" is "Tomorrow"; Monday's "In a week" is "Next Monday".
    hidden = {6: "monday", 0: "week"}.get(now.weekday())
    assert hidden not in chosen
    if "monday" in chosen:
        assert (chosen["monday"].weekday(), chosen["monday"].hour) == (0, 9)


def test_sunday_offers_monday_morning_once():
    sunday = local(BERLIN, 2026, 11, 29, 10, 0)
    labels = [label for _, label, _ in snooze.presets(BERLIN, sunday)]
    assert labels == [
        "In 1 hour",
        "This evening 18:00",
        "Tomorrow Mon 9:00",
        "In a week Sun Dec 6 9:00",
    ]


def test_nine_stays_nine_across_the_autumn_dst_change():
    saturday = local(BERLIN, 2026, 10, 24, 12, 0)  # clocks go back on Sunday 25 October
    chosen = by_key(BERLIN, saturday)
    assert chosen["tomorrow"] == local(BERLIN, 2026, 10, 25, 9, 0)
    assert chosen["tomorrow"].utcoffset() == timedelta(hours=1)  # CET now, CEST on Saturday
    assert chosen["monday"] == local(BERLIN, 2026, 10, 26, 9, 0)
    assert chosen["week"] == local(BERLIN, 2026, 10, 31, 9, 0)
    friday = local(NEW_YORK, 2026, 10, 30, 12, 0)  # New York goes back a week later
    assert by_key(NEW_YORK, friday)["week"].astimezone(UTC).hour == 14  # 9:00 EST


def test_in_one_hour_is_an_hour_of_real_time_across_the_spring_gap():
    night = local(BERLIN, 2026, 3, 29, 1, 30)  # 2:00 does not exist that night
    one_hour = by_key(BERLIN, night)["1h"]
    assert one_hour.astimezone(UTC) - night.astimezone(UTC) == timedelta(hours=1)
    assert (one_hour.hour, one_hour.minute) == (3, 30)


def test_five_pm_offers_the_evening_once():
    five = local(TOKYO, 2026, 11, 25, 17, 0)
    labels = [label for _, label, _ in snooze.presets(TOKYO, five)]
    assert labels.count("In 1 hour") + labels.count("This evening 18:00") == 1


def test_custom_time_is_wall_clock_time_where_the_agent_is():
    now = local(TOKYO, 2026, 11, 23, 8, 0)
    assert snooze.until("", "2026-11-25T10:30", TOKYO, now) == local(TOKYO, 2026, 11, 25, 10, 30)
    for preset, custom in (("", "2026-11-20T10:30"), ("", "soon"), ("never", "")):
        with pytest.raises(ValueError):
            snooze.until(preset, custom, TOKYO, now)


def test_a_preset_hidden_as_a_duplicate_still_works_from_an_older_page():
    sunday = local(BERLIN, 2026, 11, 29, 10, 0)
    assert snooze.until("monday", "", BERLIN, sunday) == local(BERLIN, 2026, 11, 30, 9, 0)


@pytest.mark.django_db
def test_snooze_set_in_tokyo_wakes_at_nine_tokyo_time(client, account, agent):
    agent.time_zone = "Asia/Tokyo"
    agent.save()
    conversation = ConversationFactory(account=account)
    client.force_login(agent)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Tomorrow" in page

    client.post(
        f"/conversations/{conversation.pk}/actions/", {"action": "snooze", "preset": "tomorrow"}
    )
    conversation.refresh_from_db()
    wakes = conversation.snoozed_until
    assert conversation.status == Conversation.Status.SNOOZED
    assert (wakes.astimezone(TOKYO).hour, wakes.astimezone(TOKYO).minute) == (9, 0)
    assert wakes - datetime.now(UTC) <= timedelta(days=1, hours=9)
    # The agent reads it in their own zone too.
    header = client.get(f"/conversations/{conversation.pk}/header/").content.decode()
    assert f"until {wakes.astimezone(TOKYO):%b %-d}, 09:00" in header  # the one date format

    assert services.reopen_snoozed(now=wakes - timedelta(minutes=1)) == 0
    assert services.reopen_snoozed(now=wakes) == 1
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN


@pytest.mark.django_db
def test_an_agents_zone_lasts_only_for_their_request(client, account, agent, settings):
    # The thread goes on to serve other requests and in-process tasks: a Tokyo agent's page must
    # not leave Tokyo as the zone of whatever runs next on it.
    agent.time_zone = "Asia/Tokyo"
    agent.save()
    client.force_login(agent)
    assert client.get("/").status_code == 200
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE
