"""A small workspace for the browser checks of accessibility and languages: an admin (who sees
every main page) with a team, a labelled conversation holding an exchange and a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from automation import services as automation
from campaigns import services as campaigns
from chatbot.models import FaqEntry
from chatbot.models import Rule as BotRule
from contacts.models import AttributeDefinition
from inbox.models import (
    Contact,
    ContactIdentity,
    HistoryImport,
    Label,
    Message,
    Note,
    PlatformAccount,
    SavedReply,
    Team,
    User,
)
from notifications.models import Notification
from outbound_webhooks.models import Attempt, Delivery, Subscription
from outreach.models import OutreachList, Recipient
from sla.models import BusinessHours, Holiday, SlaPolicy
from surveys.models import Survey, SurveySettings
from tests.factories import ContactFactory, ConversationFactory, MessageFactory, UserFactory

PASSWORD = "parley-a11y-pass"  # noqa: S105 - a test user


@dataclass
class Workspace:
    admin: User
    conversation_id: int


def seed_workspace() -> Workspace:
    admin = UserFactory(
        username="ada", role="admin", first_name="Ada", last_name="Admin", is_staff=True
    )
    admin.set_password(PASSWORD)
    admin.save()
    team = Team.objects.create(name="Support")
    team.members.add(admin)
    account = PlatformAccount.objects.create(
        platform="messenger", name="Northwind Outfitters", external_id="north-a11y"
    )
    team.accounts.add(account)
    label = Label.objects.create(name="vip", color="#7c3aed")
    now = timezone.now()
    conversation = None
    for minutes, name, text in (
        (3, "Kenji Watanabe", "Do you ship the trail jacket to Osaka?"),
        (40, "Priya Raman", "The zip on my parka broke after a week"),
    ):
        at = now - timedelta(minutes=minutes)
        c = ConversationFactory(
            account=account,
            contact=ContactFactory(name=name),
            last_message_preview=text,
            last_activity_at=at,
            last_message_at=at,
            last_inbound_at=at,
            waiting_since=at,
        )
        c.labels.set([label])
        MessageFactory(conversation=c, text=text, sent_at=at, created_at=at)
        conversation = conversation or c
    MessageFactory(
        conversation=conversation,
        text="Hi Kenji, yes: we ship to Japan in 3 days.",
        sent_at=now - timedelta(minutes=1),
        created_at=now - timedelta(minutes=1),
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        status=Message.Status.DELIVERED,
        author=admin,
    )
    Note.objects.create(conversation=conversation, author=admin, text="Check the Osaka rates.")
    return Workspace(admin=admin, conversation_id=conversation.pk)


def log_in(chromium, url: str, username: str, **context_options):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, **context_options)
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=live]")
    return context, page


@dataclass
class Configured:
    """The ids of what the configuration pages show (see ``seed_configuration``)."""

    contact_id: int
    account_id: int
    failing_account_id: int
    label_id: int
    team_id: int
    business_hours_id: int
    macro_id: int
    rule_id: int


def seed_configuration(workspace: Workspace) -> Configured:
    """Realistic data on every page beyond the main ones: a contact with identities and
    attributes, labels, saved replies, chatbot rules and FAQ, an SLA policy, business hours
    with a holiday and a partial day this month, an automation rule and a macro, survey
    settings, a history import in progress and an unread notification."""
    admin = workspace.admin
    account = PlatformAccount.objects.get(external_id="north-a11y")
    team = Team.objects.get(name="Support")
    billing = Label.objects.create(name="billing", color="#f59e0b")
    Label.objects.create(name="returns", color="#0ea5e9")
    AttributeDefinition.objects.create(
        key="plan", label="Plan", type="choice", choices=["free", "pro"]
    )
    AttributeDefinition.objects.create(key="orders", label="Orders", type="number")
    AttributeDefinition.objects.create(key="vip_since", label="VIP since", type="date")
    contact = Contact.objects.create(
        name="Lena Fischer",
        attributes={"plan": "pro", "orders": 7, "vip_since": "2025-03-01"},
        marketing_consent=Contact.Consent.OPTED_IN,
    )
    ContactIdentity.objects.create(
        contact=contact, account=account, platform_user_id="psid-lena", name="Lena Fischer"
    )
    # Its last connection check failed: the admin's banner shows on every page.
    instagram = PlatformAccount.objects.create(
        platform="instagram",
        name="Northwind on Instagram",
        external_id="north-ig-a11y",
        last_check_at=timezone.now(),
        last_check_ok=False,
        last_check_result="Invalid OAuth access token.",
    )
    team.accounts.add(instagram)
    ContactIdentity.objects.create(
        contact=contact, account=instagram, platform_user_id="ig-lena", username="lena.f"
    )
    SavedReply.objects.create(
        shortcut="ship",
        title="Shipping times",
        text="Hi {{contact.first_name}}, we ship in 3 days.",
    )
    SavedReply.objects.create(shortcut="mine", title="My sign-off", text="Cheers, Ada", owner=admin)
    BotRule.objects.create(
        account=account, name="Opening hours", triggers="hours\nopen", response="9 to 5."
    )
    FaqEntry.objects.create(
        account=account, question="Do you ship to Japan?", answer="Yes, in 3 days."
    )
    hours = BusinessHours.objects.create(
        name="Office",
        time_zone="Europe/Berlin",
        weekly={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        is_default=True,
    )
    hours.teams.add(team)
    today = timezone.localdate()
    Holiday.objects.create(hours=hours, date=today.replace(day=12), name="Company day")
    Holiday.objects.create(
        hours=hours,
        date=today.replace(day=20),
        name="Half day",
        open_from="09:00",
        open_until="12:00",
    )
    SlaPolicy.objects.create(
        name="Fast lane", first_response_seconds=900, resolution_seconds=86400, business_hours=hours
    )
    SurveySettings.objects.create(account=account, enabled=True)
    rule = automation.create_rule(
        actor=admin,
        data={
            "name": "Tag billing questions",
            "trigger": "message_received",
            "conditions": [],
            "actions": [{"type": "add_label", "value": "billing"}],
            "enabled": True,
        },
    )
    macro = automation.save_macro(
        actor=admin,
        name="Escalate to billing",
        actions_raw=[{"type": "add_label", "value": "billing"}],
        shared=True,
    )
    HistoryImport.objects.create(
        account=account,
        requested_by=admin,
        since=timezone.now() - timedelta(days=30),
        pages=3,
        items=120,
        stored=96,
        reached=timezone.now() - timedelta(days=12),
    )
    Notification.objects.create(
        user=admin,
        kind=Notification.Kind.MENTION,
        conversation_id=workspace.conversation_id,
        actor=admin,
        text="Ada mentioned you: can you check the Osaka rates?",
    )
    return Configured(
        contact_id=contact.pk,
        account_id=account.pk,
        failing_account_id=instagram.pk,
        label_id=billing.pk,
        team_id=team.pk,
        business_hours_id=hours.pk,
        macro_id=macro.pk,
        rule_id=rule.pk,
    )


@dataclass
class Issue18:
    """The ids of what the pages added after the configuration check show."""

    subscription_id: int
    outreach_id: int
    draft_campaign_id: int
    started_campaign_id: int


def seed_issue18_pages(workspace: Workspace, configured: Configured) -> Issue18:
    """A webhook subscription with a delivered and a failing delivery (with their attempts),
    rated and commented surveys for the CSAT section, and an outreach list on X whose
    recipients are pending, sent (one replied to), refused and sent the public-comment way."""
    admin = workspace.admin
    account = PlatformAccount.objects.get(pk=configured.account_id)
    team = Team.objects.get(pk=configured.team_id)
    now = timezone.now()
    subscription = Subscription.objects.create(
        url="https://hooks.example.com/parley",
        events=["message.created", "conversation.resolved"],
        secret_box={"secret": "whsec-a11y"},
        created_by=admin,
    )
    Subscription.objects.create(
        url="https://crm.example.org/in", events=["contact.updated"], secret_box={}, active=False
    )
    delivered = Delivery.objects.create(
        subscription=subscription,
        event="message.created",
        body='{"id": "1"}',
        status=Delivery.Status.SUCCEEDED,
        attempts=1,
        retry_until=now + timedelta(hours=24),
        delivered_at=now,
        last_status_code=200,
    )
    Attempt.objects.create(
        delivery=delivered, status_code=200, duration_ms=84, response_excerpt='{"ok": true}'
    )
    failing = Delivery.objects.create(
        subscription=subscription,
        event="conversation.resolved",
        body='{"id": "2"}',
        status=Delivery.Status.FAILED,
        attempts=2,
        retry_until=now - timedelta(minutes=5),
        last_status_code=500,
        last_error="HTTP 500",
    )
    Attempt.objects.create(
        delivery=failing, status_code=500, duration_ms=312, response_excerpt="Internal error"
    )
    Attempt.objects.create(delivery=failing, duration_ms=10000, error="Timed out after 10 s")

    for n, (rating, comment) in enumerate(
        ((5, "Quick and friendly, thank you!"), (4, ""), (2, ""), (None, ""))
    ):
        Survey.objects.create(
            conversation=ConversationFactory(account=account, contact=ContactFactory()),
            account=account,
            platform=account.platform,
            agent=admin,
            team=team,
            status=Survey.Status.DONE if rating else Survey.Status.ASKED,
            # One a day: the chart over time has points to draw.
            asked_at=now - timedelta(days=n, hours=1),
            rating=rating,
            rated_at=now - timedelta(days=n) if rating else None,
            comment=comment,
            commented_at=now if comment else None,
        )

    x = PlatformAccount.objects.create(platform="x", name="Northwind on X", external_id="nw-x-a11y")
    team.accounts.add(x)
    outreach = OutreachList.objects.create(
        name="Spring creators",
        account=x,
        owner=admin,
        first_message="Hi! Would you like to try our new trail jacket?",
        follow_up_days=3,
    )
    creator = Contact.objects.create(name="Mika Sato")
    identity = ContactIdentity.objects.create(
        contact=creator, account=x, platform_user_id="x-mika", username="mika_outdoors"
    )
    thread = ConversationFactory(account=x, contact=creator)
    first = MessageFactory(
        conversation=thread,
        text=outreach.first_message,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        status=Message.Status.DELIVERED,
        author=admin,
        sent_at=now - timedelta(days=1),
        created_at=now - timedelta(days=1),
    )
    MessageFactory(
        conversation=thread,
        text="Sure, send one!",
        sender_identity=identity,
        sent_at=now,
        created_at=now,
    )
    Recipient.objects.create(
        outreach=outreach,
        handle="mika_outdoors",
        identity=identity,
        status=Recipient.Status.SENT,
        message=first,
        sent_at=now - timedelta(days=1),
    )
    Recipient.objects.create(outreach=outreach, handle="trail_tom")
    Recipient.objects.create(
        outreach=outreach,
        handle="closed_dms",
        status=Recipient.Status.REFUSED,
        code="dm_not_allowed",
        reason="This person does not accept direct messages from accounts they do not follow.",
    )
    Recipient.objects.create(outreach=outreach, handle="public_pat", status=Recipient.Status.PUBLIC)
    # Campaigns: a draft (its eligibility preview) and a started one (its report).
    draft = campaigns.create(
        name="Winter offers",
        account=account,
        text="Hi {first_name}, 20 % off this week.",
        audience_filters={},
        actor=admin,
    )
    started = campaigns.create(
        name="Spring launch", account=account, text="New mugs!", audience_filters={}, actor=admin
    )
    campaigns.start(campaign=started, actor=admin)
    return Issue18(
        subscription_id=subscription.pk,
        outreach_id=outreach.pk,
        draft_campaign_id=draft.pk,
        started_campaign_id=started.pk,
    )
