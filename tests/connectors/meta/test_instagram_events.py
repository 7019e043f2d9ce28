"""Every Instagram event shape through the real view (signed), into the inbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inbox.models import Attachment, Conversation, Message, Reaction, WebhookEvent
from tests.connectors.meta.conftest import IGSID
from tests.factories import ConversationFactory, IdentityFactory, MessageFactory

pytestmark = pytest.mark.django_db

BUSINESS_MID = (
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAxMjM0NTY3ODkwOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTk4"
    "ODc3MDcxNTU0NzQ0NzozMjAxMjM0NTY3ODkwMTIzNDU2Nzg5OAZDZD"
)


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@pytest.fixture
def thread(instagram_account):
    identity = IdentityFactory(account=instagram_account, platform_user_id=IGSID)
    conversation = ConversationFactory(
        account=instagram_account,
        contact=identity.contact,
        identity=identity,
        last_inbound_at=_ms(1767227000133),
    )
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        status=Message.Status.SENT,
        external_id=BUSINESS_MID,
        text="Yes! We ship to Canada in 5-7 business days.",
        sent_at=_ms(1767227480456),
    )
    return conversation


def test_text_dm_and_username_from_the_profile(post_meta, instagram_account):
    post_meta("instagram_text.json")

    message = Message.objects.get()
    assert message.text == "Do you ship to Canada?"
    identity = message.conversation.participants.get()
    assert identity.platform_user_id == IGSID
    assert identity.username == "mug_collector_88"
    assert identity.name == "Mug Collector"


@pytest.mark.parametrize(
    ("name", "kind", "store"),
    [
        ("instagram_image.json", "image", True),
        ("instagram_share.json", "share", True),
        ("instagram_ig_reel.json", "share", True),
        ("instagram_message__story_mention.json", "story", False),
        ("instagram_message__ephemeral.json", "file", False),
    ],
)
def test_attachment_kinds(post_meta, instagram_account, name, kind, store):
    post_meta(name)

    attachment = Attachment.objects.get()
    assert (attachment.kind, attachment.store_media) == (kind, store)
    if not store:
        # Nothing is fetched for media Meta forbids storing (or that has no URL).
        assert not attachment.file and not attachment.fetch_error


def test_story_mention_keeps_the_cdn_url_only(post_meta, instagram_account):
    post_meta("instagram_message__story_mention.json")

    attachment = Attachment.objects.get()
    assert attachment.url.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/")
    assert attachment.metadata["type"] == "story_mention"
    assert not attachment.file


def test_reel_title_with_surrogate_pair_escapes(post_meta, instagram_account):
    post_meta("instagram_ig_reel.json")

    attachment = Attachment.objects.get()
    assert attachment.metadata["title"] == "How we glaze our mugs \U0001f3fa"
    assert attachment.metadata["reel_video_id"] == "18034567890123456"


def test_video_audio_and_file_in_one_message(post_meta, instagram_account):
    post_meta("instagram_message__video_audio_file.json")

    kinds = list(Attachment.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["video", "audio", "file"]


def test_story_reply_keeps_the_story(post_meta, instagram_account):
    post_meta("instagram_story_reply.json")

    message = Message.objects.get()
    assert message.text == "Is the green one back in stock?"
    assert message.metadata["story_reply"]["id"] == "18056789012345678"
    story = message.attachments.get()
    assert (story.kind, story.store_media) == ("story", False)


def test_quick_reply(post_meta, instagram_account):
    post_meta("instagram_quick_reply.json")
    assert Message.objects.get().metadata["quick_reply"] == "SHIPPING_INTL"


def test_unsupported_message_is_kept_and_flagged(post_meta, instagram_account):
    post_meta("instagram_message__unsupported.json")
    assert Message.objects.get().metadata["unsupported"] is True


def test_postback(post_meta, instagram_account):
    post_meta("instagram_postback.json")

    message = Message.objects.get()
    assert message.text == "Where is my order?"
    assert message.metadata["postback"]["payload"] == "ICEBREAKER_ORDER_STATUS"


def test_echo_of_a_known_message_makes_no_second_message(post_meta, instagram_account, thread):
    before = Message.objects.count()
    post_meta("instagram_echo.json")
    assert Message.objects.count() == before


def test_echo_from_the_instagram_app_is_sent_outside_parley(post_meta, instagram_account):
    post_meta("instagram_echo.json")

    echo = Message.objects.get()
    assert echo.sent_outside_parley is True
    assert echo.conversation.participants.get().platform_user_id == IGSID


def test_unsend_hides_the_text_but_keeps_the_message(post_meta, instagram_account):
    post_meta("instagram_text.json")
    post_meta("instagram_deleted.json")
    post_meta("instagram_deleted.json")

    message = Message.objects.get()
    assert message.is_deleted is True
    assert message.visible_text == ""
    assert message.text == "Do you ship to Canada?"
    assert WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.PROCESSED).count() == 3


def test_reaction_and_unreact(post_meta, instagram_account, thread):
    post_meta("instagram_reaction.json")

    reaction = Reaction.objects.get()
    assert (reaction.message.external_id, reaction.by) == (BUSINESS_MID, IGSID)
    thread.refresh_from_db()
    assert thread.last_inbound_at == _ms(1767227719811)

    post_meta("instagram_unreact.json")
    assert not Reaction.objects.exists()


def test_seen_marks_the_message_read_by_mid(post_meta, instagram_account, thread):
    post_meta("instagram_seen.json")

    message = Message.objects.get(external_id=BUSINESS_MID)
    assert message.status == Message.Status.READ
    assert message.read_at == _ms(1767227840333)


def test_referral_reopens_the_window(post_meta, instagram_account, thread):
    post_meta("instagram_referral__ig_me.json")

    thread.refresh_from_db()
    assert thread.last_inbound_at == _ms(1767227649000)


def test_standby(post_meta, instagram_account):
    post_meta("instagram_standby__message.json")
    assert Message.objects.get().metadata["standby"] is True


def test_comment_on_media_becomes_a_comment_conversation(post_meta, instagram_account):
    post_meta("instagram_comment.json")

    comment = Message.objects.get()
    assert comment.text == "How much is the blue one? @examplemugs"
    assert comment.sent_at == datetime.fromtimestamp(1767228020, tz=UTC)
    conversation = comment.conversation
    assert conversation.kind == Conversation.Kind.COMMENT
    assert conversation.external_thread_id == "18078901234567890"
    assert comment.metadata["comment"]["media_id"] == "18067890123456789"
    assert conversation.participants.get().username == "mug_collector_88"


def test_reply_comment_joins_its_parents_thread(post_meta, instagram_account):
    post_meta("instagram_comment.json")
    post_meta("instagram_comment__reply.json")

    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().messages.count() == 2


def test_the_accounts_own_comment_is_not_a_customer_message(post_meta, instagram_account):
    post_meta("instagram_comment__own.json")
    assert Message.objects.count() == 0


def test_flat_field_value_entry_is_read(post_meta, instagram_account):
    post_meta("instagram_comment__flat_iglogin.json")

    comment = Message.objects.get()
    assert comment.text == "Flat envelope comment"
    assert comment.metadata["comment"]["media_product_type"] == "REELS"


def test_mention_with_ids_only_is_acknowledged(post_meta, instagram_account):
    assert post_meta("instagram_mention_comment.json").status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.IGNORED
