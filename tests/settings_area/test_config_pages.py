"""The configuration pages (issue 19): who may use each, what each refuses and why, and the audit
entry each change leaves."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.urls import reverse

from chatbot.models import BotSettings, FaqEntry, Rule
from inbox import assignment, saved_replies
from inbox.models import Label, SavedReply
from inbox.settings_area.models import AuditLog
from sla.models import BusinessHours, Holiday, SlaPolicy
from surveys.models import SurveySettings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MANAGER_PAGES = ["labels", "saved_replies", "chatbot", "sla"]
ADMIN_PAGES = ["business_hours", "assignment", "surveys"]


@pytest.fixture
def manager(team):
    user = UserFactory(username="mina", first_name="Mina", role="manager")
    team.members.add(user)
    return user


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def audit(action: str) -> AuditLog:
    return AuditLog.objects.filter(action=action).latest("id")


# --- Access -----------------------------------------------------------------------------------


def test_agents_get_403_on_every_configuration_page_and_action(client, agent, account):
    client.force_login(agent)
    label = Label.objects.create(name="vip", color="#d97706")
    for name in MANAGER_PAGES + ADMIN_PAGES:
        assert client.get(reverse(f"settings:{name}")).status_code == 403, name
        assert client.post(reverse(f"settings:{name}"), {"name": "x"}).status_code == 403, name
    assert client.post(reverse("settings:label_delete", args=[label.pk])).status_code == 403
    assert (
        client.post(
            reverse("settings:chatbot_try"), {"account": account.pk, "text": "hi"}
        ).status_code
        == 403
    )
    assert client.get(reverse("settings:index")).status_code == 403
    assert Label.objects.filter(pk=label.pk).exists()


def test_managers_edit_labels_replies_bot_rules_faq_and_sla_but_not_the_rest(as_manager, account):
    for name in MANAGER_PAGES:
        assert as_manager.get(reverse(f"settings:{name}")).status_code == 200, name
    for name in ADMIN_PAGES + ["accounts", "users", "audit"]:
        assert as_manager.get(reverse(f"settings:{name}")).status_code == 403, name
    # The bot's greeting and away message are the admins'.
    response = as_manager.post(
        reverse("settings:chatbot") + f"?account={account.pk}",
        {"form": "bot", "bot-greeting": "Hello", "bot-faq_threshold": 80, "bot-hourly_cap": 5},
    )
    assert response.status_code == 403
    assert not BotSettings.objects.exists()
    # Their settings home is the labels page; the navigation shows only their pages.
    response = as_manager.get(reverse("settings:index"), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("settings:labels")
    assert reverse("settings:sla") in page and reverse("settings:surveys") not in page


def test_admins_reach_every_configuration_page(as_admin, account, team):
    for name in MANAGER_PAGES + ADMIN_PAGES:
        assert as_admin.get(reverse(f"settings:{name}")).status_code == 200, name
    page = as_admin.get(reverse("settings:labels")).content.decode()
    for name in MANAGER_PAGES + ADMIN_PAGES:
        assert reverse(f"settings:{name}") in page  # the settings navigation links them
    assert as_admin.get(reverse("settings:assignment_team", args=[team.pk])).status_code == 200
    assert as_admin.get(reverse("settings:survey", args=[account.pk])).status_code == 200


# --- Labels -----------------------------------------------------------------------------------


def test_label_colour_must_be_a_colour_and_names_are_unique_whatever_their_case(as_manager):
    response = as_manager.post(reverse("settings:labels"), {"name": "VIP", "color": "red;x"})
    assert response.status_code == 400 and "#rrggbb" in response.content.decode()
    Label.objects.create(name="vip", color="#d97706")
    response = as_manager.post(reverse("settings:labels"), {"name": " VIP ", "color": "#000000"})
    assert response.status_code == 400 and "already a label" in response.content.decode()
    assert Label.objects.count() == 1


def test_label_created_edited_and_deleted_with_audit_entries(as_manager, manager):
    as_manager.post(reverse("settings:labels"), {"name": "billing", "color": "#2563eb"})
    label = Label.objects.get(name="billing")
    entry = audit("label.created")
    assert entry.actor == manager and entry.target_repr == "billing"

    as_manager.post(
        reverse("settings:label", args=[label.pk]), {"name": "billing", "color": "#ff0000"}
    )
    entry = audit("label.changed")
    assert entry.changes == {"color": ["#2563eb", "#ff0000"]}

    as_manager.post(reverse("settings:label_delete", args=[label.pk]))
    assert not Label.objects.exists()
    assert audit("label.deleted").target_repr == "billing"


# --- Saved replies ----------------------------------------------------------------------------


def test_saved_reply_with_an_unknown_variable_is_refused_and_named(as_manager):
    response = as_manager.post(
        reverse("settings:saved_replies"),
        {"shortcut": "hi", "title": "Hi", "text": "Hi {{contact.frist_name}}", "scope": "everyone"},
    )
    assert response.status_code == 400
    assert "contact.frist_name" in response.content.decode()
    assert not SavedReply.objects.exists()


def test_the_variables_are_listed_and_the_preview_fills_them(as_manager):
    page = as_manager.get(reverse("settings:saved_replies")).content.decode()
    for name in saved_replies.VARIABLES:
        assert "{{" + name + "}}" in page
    preview = as_manager.post(
        reverse("settings:saved_reply_preview"), {"text": "Hi {{contact.first_name}} {{oops.x}}"}
    ).content.decode()
    assert "Hi Ana" in preview and "oops.x" in preview


def test_personal_reply_is_seen_by_its_owner_only_and_team_reply_by_the_team(
    as_manager, manager, agent, outsider, team
):
    as_manager.post(
        reverse("settings:saved_replies"),
        {"shortcut": "mine", "title": "Mine", "text": "Only me", "scope": "personal"},
    )
    as_manager.post(
        reverse("settings:saved_replies"),
        {"shortcut": "team", "title": "Team", "text": "Us", "scope": "teams", "teams": [team.pk]},
    )
    mine = SavedReply.objects.get(shortcut="mine")
    assert mine.owner == manager and not mine.teams.exists()
    assert [r.shortcut for r in saved_replies.available(manager)] == ["mine", "team"]
    assert [r.shortcut for r in saved_replies.available(agent)] == ["team"]
    assert list(saved_replies.available(outsider)) == []
    assert audit("saved_reply.created").target_repr == "/team"
    # A team reply needs its teams.
    response = as_manager.post(
        reverse("settings:saved_replies"),
        {"shortcut": "none", "title": "None", "text": "x", "scope": "teams"},
    )
    assert response.status_code == 400


def test_another_managers_personal_reply_cannot_be_changed(client, team):
    owner = UserFactory(username="owner", role="manager")
    reply = SavedReply.objects.create(shortcut="p", title="P", text="x", owner=owner)
    client.force_login(UserFactory(username="other", role="manager"))
    assert client.get(reverse("settings:saved_reply", args=[reply.pk])).status_code == 403
    assert client.post(reverse("settings:saved_reply_delete", args=[reply.pk])).status_code == 403
    assert "<code>/p</code>" not in client.get(reverse("settings:saved_replies")).content.decode()


# --- Chatbot ----------------------------------------------------------------------------------


def test_rule_with_a_broken_pattern_is_refused(as_manager, account):
    url = reverse("settings:chatbot") + f"?account={account.pk}"
    response = as_manager.post(
        url,
        {
            "form": "rule",
            "rule-name": "Broken",
            "rule-match": "regex",
            "rule-triggers": "order (\\d+",
            "rule-response": "x",
            "rule-order": 1,
            "rule-is_active": "on",
        },
    )
    assert response.status_code == 400 and not Rule.objects.exists()


def test_rules_and_faq_added_then_try_it_explains_the_answer(as_manager, account):
    url = reverse("settings:chatbot") + f"?account={account.pk}"
    BotSettings.objects.create(account=account, faq_threshold=70)
    as_manager.post(
        url,
        {
            "form": "rule",
            "rule-name": "Menu",
            "rule-match": "keyword",
            "rule-triggers": "menu",
            "rule-response": "What can I do?",
            "rule-quick_replies": "Shipping\nReturns",
            "rule-order": 1,
            "rule-is_active": "on",
        },
    )
    rule = Rule.objects.get()
    assert rule.account == account and rule.quick_replies == ["Shipping", "Returns"]
    assert audit("bot_rule.created").target_repr == "Menu"
    as_manager.post(
        url,
        {
            "form": "faq",
            "faq-question": "How long does shipping take?",
            "faq-examples": "delivery time",
            "faq-answer": "Three to five days.",
            "faq-is_active": "on",
        },
    )
    assert FaqEntry.objects.get().account == account
    assert audit("bot_faq.created")

    answer = as_manager.post(
        reverse("settings:chatbot_try"), {"account": account.pk, "text": "what's the delivery time"}
    ).content.decode()
    assert "Three to five days." in answer and "delivery time" in answer and "similarity" in answer
    answer = as_manager.post(
        reverse("settings:chatbot_try"), {"account": account.pk, "text": "show me the menu"}
    ).content.decode()
    assert "What can I do?" in answer and "Rule “Menu” matched" in answer


def test_try_it_reports_a_consent_keyword_without_recording_it(as_manager, account):
    BotSettings.objects.create(account=account)
    answer = as_manager.post(
        reverse("settings:chatbot_try"), {"account": account.pk, "text": "STOP"}
    ).content.decode()
    assert "consent keyword" in answer
    assert not AuditLog.objects.exists()
    from inbox.models import Contact

    assert not Contact.objects.exists()


def test_admin_sets_greeting_and_away_message_and_a_wrong_placeholder_is_refused(
    as_admin, account, admin_user
):
    url = reverse("settings:chatbot") + f"?account={account.pk}"
    data = {
        "form": "bot",
        "bot-enabled": "on",
        "bot-greeting": "Hi {name}!",
        "bot-away_message": "Back {back}",
        "bot-handoff_message": "A person will answer.",
        "bot-faq_threshold": 80,
        "bot-hourly_cap": 5,
    }
    response = as_admin.post(url, data)
    assert response.status_code == 400 and "{name}" in response.content.decode()
    data["bot-greeting"] = "Hi {first_name}!"
    as_admin.post(url, data)
    bot = BotSettings.objects.get(account=account)
    assert bot.greeting == "Hi {first_name}!" and bot.away_message == "Back {back}"
    assert audit("bot_settings.created").actor == admin_user
    page = as_admin.get(url).content.decode()
    assert "Hi Ana!" in page  # the greeting as a customer reads it


# --- SLA --------------------------------------------------------------------------------------


def sla_data(**extra):
    data = {
        "name": "Standard",
        "is_active": "on",
        "order": 10,
        "first_response_seconds_0": 1,
        "first_response_seconds_1": 30,
        "resolution_seconds_0": 24,
        "warning_percent": 80,
    }
    data.update(extra)
    return data


def test_sla_targets_are_typed_in_hours_and_minutes(as_manager, manager):
    response = as_manager.post(reverse("settings:sla"), sla_data())
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert policy.first_response_seconds == 5400 and policy.resolution_seconds == 86400
    assert policy.next_response_seconds is None
    assert audit("sla_policy.created").actor == manager
    page = as_manager.get(reverse("settings:sla")).content.decode()
    assert "1 h 30 min" in page and "24 h" in page
    edit = as_manager.get(reverse("settings:sla_policy", args=[policy.pk])).content.decode()
    assert 'name="first_response_seconds_1" value="30"' in edit


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"first_response_seconds_1": 75}, "less than or equal to 59"),
        (
            {
                "first_response_seconds_0": "",
                "first_response_seconds_1": "",
                "resolution_seconds_0": "",
            },
            "at least one target",
        ),
        ({"first_response_seconds_0": 0, "first_response_seconds_1": 0}, "zero minutes"),
        ({"warning_percent": 150}, "Between 1 and 99"),
    ],
)
def test_sla_form_refuses_what_cannot_be_a_target(as_manager, bad, words):
    response = as_manager.post(reverse("settings:sla"), sla_data(**bad))
    assert response.status_code == 400 and words in response.content.decode()
    assert not SlaPolicy.objects.exists()


# --- Business hours ---------------------------------------------------------------------------


def hours_data(**extra):
    data = {
        "form": "hours",
        "name": "Office",
        "time_zone": "Europe/Paris",
        "day_mon": "09:00–12:00, 13:00-17:00",
        "day_fri": "09:00-16:00",
    }
    data.update(extra)
    return data


def test_business_hours_weekly_intervals_and_a_partial_day_in_the_calendar(as_admin, admin_user):
    response = as_admin.post(reverse("settings:business_hours"), hours_data())
    hours = BusinessHours.objects.get()
    assert response.status_code == 302
    assert hours.weekly == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "fri": [["09:00", "16:00"]],
    }
    assert audit("business_hours.created").actor == admin_user

    edit = reverse("settings:business_hours_edit", args=[hours.pk])
    as_admin.post(
        edit,
        {
            "form": "holiday",
            "holiday-date": "2026-12-24",
            "holiday-name": "Christmas Eve",
            "holiday-open_from": "09:00",
            "holiday-open_until": "12:00",
        },
    )
    as_admin.post(
        edit, {"form": "holiday", "holiday-date": "2026-12-25", "holiday-name": "Christmas"}
    )
    eve = Holiday.objects.get(date=date(2026, 12, 24))
    assert eve.partial and eve.open_until == time(12)
    page = as_admin.get(edit + "?month=2026-12").content.decode()
    assert 'data-date="2026-12-24" data-kind="partial"' in page
    assert 'data-date="2026-12-25" data-kind="holiday"' in page
    assert 'data-date="2026-12-28" data-kind="open"' in page  # a Monday
    assert 'data-date="2026-12-27" data-kind="closed"' in page  # a Sunday
    # The same day twice is refused; a partial day needs both times.
    response = as_admin.post(edit, {"form": "holiday", "holiday-date": "2026-12-25"})
    assert response.status_code == 400 and "already" in response.content.decode()
    response = as_admin.post(
        edit, {"form": "holiday", "holiday-date": "2026-12-31", "holiday-open_from": "09:00"}
    )
    assert response.status_code == 400 and Holiday.objects.count() == 2
    assert as_admin.post(reverse("settings:chatbot_try"), {"account": "x"}).status_code == 404

    christmas = Holiday.objects.get(date=date(2026, 12, 25))
    as_admin.post(reverse("settings:holiday_delete", args=[christmas.pk]))
    assert audit("business_hours.holiday_removed").changes == {"day": "2026-12-25 Christmas"}
    as_admin.post(edit, hours_data(day_mon="08:00-18:00"))
    entry = audit("business_hours.changed")
    assert entry.changes["day_mon"] == ["09:00–12:00, 13:00–17:00", "08:00-18:00"]


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"day_mon": "9 to 5"}, "not an interval"),
        ({"day_mon": "17:00-09:00"}, "ends before it starts"),
        ({"day_mon": "09:00-13:00, 12:00-17:00"}, "overlap"),
        ({"time_zone": "Mars/Olympus"}, "not a time zone"),
    ],
)
def test_business_hours_refuse_what_cannot_be_opening_hours(as_admin, bad, words):
    response = as_admin.post(reverse("settings:business_hours"), hours_data(**bad))
    assert response.status_code == 400 and words in response.content.decode()
    assert not BusinessHours.objects.exists()


def test_only_one_default_business_hours(as_admin):
    BusinessHours.objects.create(name="Main", is_default=True)
    response = as_admin.post(reverse("settings:business_hours"), hours_data(is_default="on"))
    assert response.status_code == 400 and "default already" in response.content.decode()


# --- Auto-assignment --------------------------------------------------------------------------


def test_assignment_cap_and_who_takes_part(
    as_admin, team, agent, teammate, admin_user, monkeypatch
):
    response = as_admin.post(
        reverse("settings:assignment_team", args=[team.pk]),
        {
            "auto_assign": "on",
            "cap": 4,
            f"part_{agent.pk}": "on",
            f"cap_{agent.pk}": 2,
            # the teammate does not take part
        },
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.auto_assign and team.max_open_per_agent == 4
    assert list(team.auto_assign_excluded.all()) == [teammate]
    assert assignment.cap_of(team, agent.pk) == 2 and assignment.cap_of(team, teammate.pk) == 4
    entry = audit("team.assignment_changed")
    assert entry.changes["auto_assign"] == [False, True]
    assert entry.changes["excluded"] == [[], ["bob"]]

    # Only the agent who takes part is a candidate (both online and available).
    from inbox import presence

    monkeypatch.setattr(presence, "online_user_ids", lambda: {agent.pk, teammate.pk})
    assert assignment.candidates(team) == [agent]


def test_assignment_cap_must_be_a_sensible_number(as_admin, team):
    response = as_admin.post(reverse("settings:assignment_team", args=[team.pk]), {"cap": -1})
    assert response.status_code == 400


# --- Surveys ----------------------------------------------------------------------------------


def test_survey_settings_per_account(as_admin, account, admin_user):
    url = reverse("settings:survey", args=[account.pk])
    response = as_admin.post(url, {"enabled": "on", "question": "", "comment_prompt": ""})
    assert response.status_code == 400 and "needs its question" in response.content.decode()
    as_admin.post(url, {"enabled": "on", "question": "How did we do?", "comment_prompt": "Why?"})
    survey = SurveySettings.objects.get(account=account)
    assert survey.enabled and survey.question == "How did we do?"
    assert audit("survey_settings.created").actor == admin_user
    as_admin.post(url, {"question": "How did we do?", "comment_prompt": ""})
    assert audit("survey_settings.changed").changes["enabled"] == [True, False]
