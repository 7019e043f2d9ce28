"""A small workspace for the browser checks of accessibility and languages: an admin (who sees
every main page) with a team, a labelled conversation holding an exchange and a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from inbox.models import Label, Message, Note, PlatformAccount, Team, User
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
