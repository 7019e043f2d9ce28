"""Small pieces of the dashboard: safe links, durations, saved-reply variables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import saved_replies
from inbox.templatetags.parley import initials, safe_links, short_since
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
    assert short_since(now - timedelta(seconds=20)) == "now"
    assert short_since(now - timedelta(minutes=7, seconds=5)) == "7 min"
    assert short_since(now - timedelta(hours=5)) == "5 h"
    assert short_since(now - timedelta(days=3)) == "3 d"
    assert initials("Priya Raman Iyer") == "PR" and initials("") == "?"


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
