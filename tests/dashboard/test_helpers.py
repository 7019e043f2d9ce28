"""Small pieces of the dashboard: safe links, durations, saved-reply variables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from inbox import saved_replies
from inbox.templatetags.parley import ago, initials, safe_links, short_since, time_ago, when
from tests.factories import ContactFactory, ConversationFactory


def test_safe_links_escape_everything_and_link_only_http():
    html = safe_links("Hi <b>! see https://a.example/x?y=1&z=2). or javascript:alert(1)\nbye")
    assert html == (
        "Hi &lt;b&gt;! see "
        '<a href="https://a.example/x?y=1&amp;z=2" target="_blank" rel="noopener noreferrer">'
        "https://a.example/x?y=1&amp;z=2</a>). or javascript:alert(1)<br>bye"
    )


def test_a_quote_cannot_break_out_of_the_link():
    html = safe_links('https://a.example/"onmouseover="x()')
    assert 'onmouseover="' not in html


def test_short_durations_and_initials():
    now = timezone.now()
    assert short_since(now - timedelta(seconds=20)) == "<1 min"
    assert short_since(now - timedelta(minutes=7, seconds=5)) == "7 min"
    assert short_since(now - timedelta(hours=5)) == "5 h"
    assert short_since(now - timedelta(days=3)) == "3 d"
    assert initials("Priya Raman Iyer") == "PR" and initials("") == "?"


def test_relative_times_read_just_now_never_zero_minutes():
    now = timezone.now()
    assert ago(now) == "just now"
    assert ago(now - timedelta(seconds=59)) == "just now"
    assert ago(now + timedelta(seconds=30)) == "just now"
    assert ago(now - timedelta(minutes=4, seconds=10)) == "4 min ago"
    assert ago(now - timedelta(hours=3)) == "3 h ago"
    assert ago(now + timedelta(minutes=12, seconds=30)) == "in 12 min"
    assert ago(now - timedelta(days=2)) == "2 d ago"


def test_one_date_format_with_the_year_only_in_another_year(settings):
    settings.TIME_ZONE = "Europe/Paris"
    this_year = timezone.now().year
    assert when(datetime(this_year, 11, 23, 16, 5, tzinfo=UTC)) == "Nov 23, 17:05"
    assert when(datetime(2020, 3, 2, 8, 7, tzinfo=UTC)) == "Mar 2, 2020, 09:07"
    assert when(None) == ""
    assert when(date(this_year, 11, 2)) == "Nov 2"
    assert when(date(2020, 11, 2)) == "Nov 2, 2020"


def test_time_ago_is_a_time_element_the_page_keeps_current():
    moment = timezone.now() - timedelta(minutes=5)
    html = time_ago(moment)
    assert html == (
        f'<time datetime="{moment.isoformat()}" data-ago title="{when(moment)}">5 min ago</time>'
    )


@pytest.mark.django_db
def test_saved_reply_variables_are_a_fixed_list(account, agent):
    conversation = ConversationFactory(account=account, contact=ContactFactory(name="Maya Lin"))
    text = (
        "{{ contact.first_name }}/{{contact.name}}/{{agent.first_name}}/{{account.platform}}/"
        "{{conversation.id}}/{{agent.password}}/{{ contact.__class__ }}"
    )
    assert saved_replies.render(text, conversation=conversation, agent=agent) == (
        f"Maya/Maya Lin/Alice/Sandbox/{conversation.pk}/{{{{agent.password}}}}/"
        "{{ contact.__class__ }}"
    )
