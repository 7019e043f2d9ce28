"""One duration formatter: the list's "3 h", the composer's "3 h 12 min" and the reports'
"20.6 min" are three readings of one unit table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.formatting import duration
from inbox.policy import _duration as window
from inbox.templatetags.report_format import duration as report_figure


@pytest.mark.parametrize(
    ("seconds", "glance", "two_units", "figure"),
    [
        (20, "0 min", "0 min", "20 s"),
        (89, "1 min", "1 min", "89 s"),
        (1234, "20 min", "20 min", "20.6 min"),
        (3 * 3600 + 12 * 60 + 5, "3 h", "3 h 12 min", "3.2 h"),
        (26 * 3600, "1 d", "1 d 2 h", "26.0 h"),
        (3 * 86400, "3 d", "3 d 0 h", "3.0 d"),
        (-5, "0 min", "0 min", "0 s"),
    ],
)
def test_three_readings_of_one_duration(seconds, glance, two_units, figure):
    assert duration(seconds) == glance
    assert duration(seconds, parts=2) == two_units
    assert duration(seconds, decimals=1) == figure


def test_the_composer_and_the_reports_read_durations_through_it():
    assert window(timedelta(hours=23, minutes=59).total_seconds()) == "23 h 59 min"
    assert report_figure(1234) == "20.6 min"
    assert report_figure(None) == "–"


@pytest.mark.django_db
def test_an_agents_zone_does_not_outlive_the_request(client, agent, settings):
    agent.time_zone = "Asia/Tokyo"
    agent.save()
    client.force_login(agent)

    assert client.get("/").status_code == 200
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE
