from __future__ import annotations

import factory
from django.utils import timezone

from inbox.models import (
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    PlatformAccount,
    Team,
    User,
)

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    role = "agent"
    password = factory.django.Password(PASSWORD)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlatformAccount

    platform = "sandbox"
    name = factory.Sequence(lambda n: f"Account {n}")
    external_id = factory.Sequence(lambda n: f"acct-{n}")
    credentials = factory.LazyFunction(lambda: {"secret": "s3cret"})


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Customer {n}")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactIdentity

    contact = factory.SubFactory(ContactFactory)
    account = factory.SubFactory(AccountFactory)
    platform_user_id = factory.Sequence(lambda n: f"user-{n}")
    name = factory.SelfAttribute("contact.name")


class ConversationFactory(factory.django.DjangoModelFactory):
    """A DM thread with its contact's identity as participant."""

    class Meta:
        model = Conversation
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    contact = factory.SubFactory(ContactFactory)
    last_inbound_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def identity(self, create, extracted, **kwargs):
        if create:
            identity = extracted or IdentityFactory(contact=self.contact, account=self.account)
            self.participants.add(identity)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    account = factory.SelfAttribute("conversation.account")
    direction = Message.Direction.INBOUND
    sender_kind = Message.SenderKind.CONTACT
    status = Message.Status.RECEIVED
    text = "Hello"
    external_id = factory.Sequence(lambda n: f"ext-{n}")
