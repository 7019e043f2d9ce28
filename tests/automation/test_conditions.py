"""Conditions: all or any, each field and operator, as the listener reads them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from automation.models import Rule
from inbox.models import Contact, Conversation
from sla.models import BusinessHours
from tests.factories import AccountFactory, TeamFactory

pytestmark = pytest.mark.django_db

EVERY_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def ran(rule: Rule) -> bool:
    rule.refresh_from_db()
    return rule.hits > 0


def cond(field, operator, value, **extra):
    return {"field": field, "operator": operator, "value": value, **extra}


@pytest.mark.parametrize(
    ("condition", "text", "expected"),
    [
        (cond("text", "contains", "refund"), "I want a REFUND please", True),
        (cond("text", "contains", "refund"), "refunding is not the word", False),
        (cond("text", "contains", "money back"), "Can I get my money   back?", True),
        (cond("text", "equals", "hello"), "Hello!", True),
        (cond("text", "equals", "hello"), "hello there", False),
        (cond("text", "matches", r"order\s*#?\d{5}"), "where is order #12345", True),
        (cond("text", "matches", r"order\s*#?\d{5}"), "where is my order", False),
        (cond("text", "contains", "refund", negate=True), "just saying hi", True),
    ],
)
def test_text(account, labels, make_rule, write, condition, text, expected):
    rule = make_rule(conditions=[condition])
    write(account, text)
    assert ran(rule) is expected


def test_a_catastrophic_regex_times_out_and_matches_nothing(account, labels, make_rule, write):
    # Uses the chatbot's timeout (chatbot.engine.pattern_matches): the listener is not stuck.
    rule = make_rule(conditions=[cond("text", "matches", r"(a+)+b")])
    write(account, "a" * 1900 + "!")
    assert not ran(rule)


def test_platform_account_and_kind(account, other_account, labels, make_rule, write):
    by_platform = make_rule(conditions=[cond("platform", "equals", "sandbox")])
    by_account = make_rule(conditions=[cond("account", "in", [other_account.pk])])
    by_kind = make_rule(conditions=[cond("kind", "equals", "dm")])
    not_x = make_rule(conditions=[cond("platform", "in", ["x", "linkedin"])])
    write(account, "hi")
    assert ran(by_platform) and ran(by_kind)
    assert not ran(by_account) and not ran(not_x)


def test_team_labels_priority_and_status(account, team, labels, make_rule, write):
    conversation = write(account, "first")
    Conversation.objects.filter(pk=conversation.pk).update(team=team, priority=2)
    conversation.labels.add(labels["vip"])
    note = [{"type": "add_note", "value": "seen"}]  # changes nothing the others read
    rules = {
        "team": make_rule(conditions=[cond("team", "equals", "Support")], actions=note),
        "other team": make_rule(
            conditions=[cond("team", "equals", TeamFactory(name="Sales").name)]
        ),
        "label": make_rule(conditions=[cond("label", "contains", "vip")], actions=note),
        "labels in": make_rule(
            conditions=[cond("label", "in", ["urgent", "billing"])], actions=note
        ),
        "priority": make_rule(
            conditions=[cond("priority", "in", ["high", "urgent"])], actions=note
        ),
        "status": make_rule(conditions=[cond("status", "equals", "open")], actions=note),
    }
    write(account, "second")
    assert {name for name, rule in rules.items() if ran(rule)} == {
        "team",
        "label",
        "priority",
        "status",
    }


def test_all_and_any(account, labels, make_rule, write):
    both = [cond("text", "contains", "refund"), cond("platform", "equals", "x")]
    every = make_rule(conditions=both)
    some = make_rule(conditions={"any": both})
    write(account, "refund")
    assert not ran(every)
    assert ran(some)


def test_inside_and_outside_business_hours(account, labels, make_rule, write):
    BusinessHours.objects.create(name="Always", time_zone="UTC", weekly=EVERY_DAY, is_default=True)
    inside = make_rule(conditions=[cond("business_hours", "equals", True)])
    outside = make_rule(conditions=[cond("business_hours", "equals", False)])
    write(account, "hi")
    assert ran(inside) and not ran(outside)


def test_with_no_business_hours_it_is_always_inside(account, labels, make_rule, write):
    outside = make_rule(conditions=[cond("business_hours", "equals", False)])
    write(account, "hi")
    assert not ran(outside)


def test_contact_attribute(account, labels, make_rule, write):
    rule = make_rule(conditions=[cond("contact_attribute", "equals", "pro", key="plan")])
    conversation = write(account, "hi")
    assert not ran(rule)
    Contact.objects.filter(pk=conversation.contact_id).update(attributes={"plan": "pro"})
    write(account, "again")
    assert ran(rule)


def test_inactive_user_is_not_a_valid_assignee(make_rule, labels):
    from automation.spec import Invalid

    user = get_user_model().objects.create(username="gone", is_active=False)
    with pytest.raises(Invalid, match="No active user"):
        make_rule(actions=[{"type": "assign", "value": user.pk}])


def test_an_account_condition_does_not_see_other_accounts(labels, make_rule, write):
    a, b = AccountFactory(platform="sandbox"), AccountFactory(platform="sandbox")
    rule = make_rule(conditions=[cond("account", "equals", a.pk)])
    write(b, "hi")
    assert not ran(rule)
    write(a, "hi")
    assert ran(rule)
