"""The inbox services: idempotent ingestion, side effects only after commit, the delivery
state machine and the reply rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from connectors import base as events
from connectors.models import SandboxOutbox
from inbox import delivery, services
from inbox.models import Conversation, ConversationEvent, Message, PlatformAccount
from tests.factories import ConversationFactory, MessageFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def received(account, *, message_id="m-1", sender="cust-1", text="Hi", at=NOW, **extra):
    return events.MessageReceived(
        platform=account.platform,
        account_external_id=account.external_id,
        timestamp=at,
        external_id=message_id,
        sender=events.Person(platform_user_id=sender, name="Maya Thompson"),
        text=text,
        **extra,
    )


@pytest.mark.django_db
class TestReceiveMessage:
    def test_same_platform_id_twice_makes_one_message(self, account):
        first = services.receive_message(account=account, event=received(account))
        second = services.receive_message(account=account, event=received(account))

        assert first.pk == second.pk
        assert Message.objects.count() == 1
        assert ConversationEvent.objects.filter(kind="message_received").count() == 1

    def test_messages_from_one_contact_share_a_conversation(self, account):
        services.receive_message(account=account, event=received(account, message_id="a"))
        services.receive_message(account=account, event=received(account, message_id="b"))

        assert Conversation.objects.count() == 1
        conversation = Conversation.objects.get()
        assert conversation.messages.count() == 2
        assert conversation.waiting_since == NOW

    def test_out_of_order_delivery_keeps_the_newest_as_last(self, account):
        later = NOW + timedelta(minutes=5)
        services.receive_message(
            account=account, event=received(account, message_id="b", text="second", at=later)
        )
        services.receive_message(
            account=account, event=received(account, message_id="a", text="first", at=NOW)
        )

        conversation = Conversation.objects.get()
        assert conversation.last_message_at == later
        assert conversation.last_inbound_at == later
        assert conversation.last_message_preview == "second"
        texts = list(conversation.messages.order_by("sent_at").values_list("text", flat=True))
        assert texts == ["first", "second"]

    def test_a_customer_writing_again_reopens_a_resolved_conversation(self, account, agent):
        message = services.receive_message(account=account, event=received(account, message_id="a"))
        services.change_status(conversation=message.conversation, status="resolved", actor=agent)

        services.receive_message(account=account, event=received(account, message_id="b"))

        conversation = Conversation.objects.get()
        assert conversation.status == Conversation.Status.OPEN
        reopen = ConversationEvent.objects.filter(kind="status_changed").last()
        assert reopen.data["reason"] == "customer wrote"

    def test_nothing_is_pushed_or_sent_when_the_transaction_rolls_back(
        self, account, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks() as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            services.receive_message(account=account, event=received(account))
            raise RuntimeError("boom")

        assert callbacks == []
        assert Message.objects.count() == 0

    def test_side_effects_are_scheduled_on_commit(
        self, account, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            services.receive_message(account=account, event=received(account))
        # The created and message_received events, dispatched together after commit.
        assert len(callbacks) == 1
        assert sorted(ConversationEvent.objects.values_list("kind", flat=True)) == [
            "created",
            "message_received",
        ]

    def test_a_batch_moves_each_conversation_on_with_its_own_messages(self, account, agent):
        resolved = services.receive_message(
            account=account, event=received(account, message_id="old", sender="ada")
        ).conversation
        services.change_status(conversation=resolved, status="resolved", actor=agent)
        later = NOW + timedelta(minutes=5)

        services.receive_messages(
            account,
            [
                received(account, message_id="a1", sender="ada", text="back again", at=later),
                received(account, message_id="b1", sender="bo", text="first", at=NOW),
                received(account, message_id="b2", sender="bo", text="second", at=later),
                received(account, message_id="c1", sender="cy", text="hello", at=NOW),
            ],
        )

        rows = {
            c.contact.identities.get().platform_user_id: c
            for c in Conversation.objects.select_related("contact")
        }
        assert {who: c.last_message_preview for who, c in rows.items()} == {
            "ada": "back again",
            "bo": "second",
            "cy": "hello",
        }
        assert rows["ada"].status == Conversation.Status.OPEN
        assert rows["ada"].last_message_at == later
        assert rows["bo"].waiting_since == NOW and rows["bo"].last_inbound_at == later
        assert rows["cy"].last_message_at == NOW
        reopened = ConversationEvent.objects.filter(kind="status_changed").last()
        assert reopened.conversation_id == resolved.pk
        assert reopened.data == {"from": "resolved", "to": "open", "reason": "customer wrote"}


@pytest.mark.django_db
class TestEchoes:
    def test_echo_of_parleys_own_send_makes_no_second_message(self, account, agent):
        conversation = ConversationFactory(account=account)
        reply = services.queue_reply(conversation=conversation, author=agent, text="On its way!")

        echo = events.MessageEchoed(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=NOW,
            external_id="platform-id-1",
            recipient=events.Person(platform_user_id="someone"),
            text="On its way!",
            client_ref=reply.client_ref,
        )
        services.record_echo(account=account, event=echo)

        assert Message.objects.filter(direction="outbound").count() == 1

    def test_echo_from_another_tool_is_shown_as_sent_outside_parley(self, account):
        services.receive_message(account=account, event=received(account))
        echo = events.MessageEchoed(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=NOW + timedelta(minutes=1),
            external_id="from-phone",
            recipient=events.Person(platform_user_id="cust-1"),
            text="Answered from the phone app",
        )
        message = services.record_echo(account=account, event=echo)
        services.record_echo(account=account, event=echo)

        assert message.sent_outside_parley
        assert message.sender_kind == Message.SenderKind.AGENT
        assert message.conversation == Conversation.objects.get()
        assert Message.objects.filter(external_id="from-phone").count() == 1


@pytest.mark.django_db
class TestReceiptsAndReactions:
    def test_status_only_moves_forward(self, account):
        message = MessageFactory(
            conversation=ConversationFactory(account=account),
            direction="outbound",
            sender_kind="agent",
            status="read",
            external_id="out-1",
        )
        delivered = events.MessagesDelivered(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=NOW,
            counterpart_id="x",
            external_ids=("out-1",),
        )
        services.mark_delivered(account=account, event=delivered)

        message.refresh_from_db()
        assert message.status == Message.Status.READ

    def test_reaction_shows_on_the_message_and_can_be_removed(self, account):
        message = MessageFactory(
            conversation=ConversationFactory(account=account), external_id="in-1"
        )

        def react(removed=False):
            return events.ReactionChanged(
                platform="sandbox",
                account_external_id=account.external_id,
                timestamp=NOW,
                message_external_id="in-1",
                by=events.Person(platform_user_id="cust-1"),
                emoji="❤️",
                removed=removed,
            )

        services.apply_reaction(account=account, event=react())
        services.apply_reaction(account=account, event=react())
        assert list(message.reactions.values_list("emoji", flat=True)) == ["❤️"]

        services.apply_reaction(account=account, event=react(removed=True))
        assert message.reactions.count() == 0

    def test_unsent_message_keeps_its_row_but_hides_text(self, account):
        message = MessageFactory(
            conversation=ConversationFactory(account=account), external_id="in-1", text="oops"
        )
        deleted = events.MessageDeleted(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=NOW,
            external_id="in-1",
        )
        services.delete_message(account=account, event=deleted)

        message.refresh_from_db()
        assert message.is_deleted
        assert message.visible_text == ""


@pytest.mark.django_db(transaction=True)
class TestDelivery:
    def test_reply_is_queued_then_sent_through_the_connector(self, account, agent):
        conversation = ConversationFactory(account=account)

        message = services.queue_reply(conversation=conversation, author=agent, text="Hello Maya")

        message.refresh_from_db()
        assert message.status == Message.Status.SENT
        assert message.external_id.startswith("sbx-")
        assert SandboxOutbox.objects.get().text == "Hello Maya"

    def test_transient_failure_is_retried_later_not_failed(self, account, agent):
        account.options = {"simulate_failure": "transient"}
        account.save()
        conversation = ConversationFactory(account=account)

        message = services.queue_reply(conversation=conversation, author=agent, text="Hello")

        message.refresh_from_db()
        assert message.status == Message.Status.QUEUED
        assert message.next_attempt_at is not None
        assert "temporarily unavailable" in message.error

        account.options = {}
        account.save()
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
        assert delivery.deliver(message.pk) == Message.Status.SENT

    def test_permanent_refusal_fails_with_a_reason_and_is_not_retried(self, account, agent):
        account.options = {"simulate_failure": "permanent"}
        account.save()
        conversation = ConversationFactory(account=account)

        message = services.queue_reply(conversation=conversation, author=agent, text="Hello")

        message.refresh_from_db()
        assert message.status == Message.Status.FAILED
        assert message.error == "The sandbox refused this message."
        assert delivery.deliver(message.pk) is None  # not claimable again

    def test_a_message_is_claimed_once(self, account, agent):
        conversation = ConversationFactory(account=account)
        message = MessageFactory(
            conversation=conversation,
            direction="outbound",
            sender_kind="agent",
            status="queued",
            external_id=None,
            client_ref="ref-1",
        )
        assert delivery.deliver(message.pk) == Message.Status.SENT
        assert delivery.deliver(message.pk) is None
        assert SandboxOutbox.objects.count() == 1

    def test_account_needing_reauth_parks_messages(self, account, agent):
        account.status = PlatformAccount.Status.NEEDS_REAUTH
        account.save()
        conversation = ConversationFactory(account=account)

        message = services.queue_reply(conversation=conversation, author=agent, text="Hello")

        message.refresh_from_db()
        assert message.status == Message.Status.QUEUED
        assert "re-authorisation" in message.error
        assert message.pk not in delivery.due_messages()


@pytest.mark.django_db
class TestTriage:
    def test_assign_status_labels_and_priority_are_logged(self, account, agent, teammate):
        conversation = ConversationFactory(account=account)

        services.assign(conversation=conversation, actor=agent, assignee=teammate)
        services.change_status(conversation=conversation, status="pending", actor=agent)
        services.set_priority(conversation=conversation, priority=3, actor=agent)
        services.add_note(conversation=conversation, author=agent, text="VIP customer")

        kinds = list(conversation.events.values_list("kind", flat=True))
        assert kinds == ["assigned", "status_changed", "priority_changed", "note_added"]
        conversation.refresh_from_db()
        assert conversation.assignee == teammate
        assert conversation.priority == 3

    def test_snoozed_conversations_reopen_when_due(self, account, agent):
        conversation = ConversationFactory(account=account)
        services.change_status(
            conversation=conversation, status="snoozed", actor=agent, snoozed_until=NOW
        )
        assert services.reopen_snoozed(now=NOW + timedelta(seconds=1)) == 1
        conversation.refresh_from_db()
        assert conversation.status == Conversation.Status.OPEN
        assert conversation.snoozed_until is None

    def test_empty_reply_is_refused(self, account, agent):
        conversation = ConversationFactory(account=account)
        with pytest.raises(services.ReplyRefused) as refused:
            services.queue_reply(conversation=conversation, author=agent, text="   ")
        assert refused.value.code == "empty"
        assert Message.objects.count() == 0

    def test_promotional_message_needs_opt_in(self, account, agent):
        conversation = ConversationFactory(account=account)
        with pytest.raises(services.ReplyRefused) as refused:
            services.queue_reply(
                conversation=conversation, author=agent, text="20% off!", is_promotional=True
            )
        assert refused.value.code == "not_opted_in"
        assert Message.objects.count() == 0
