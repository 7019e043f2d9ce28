"""Every Messenger event shape through the real view (signed), into the inbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from inbox.models import Attachment, Conversation, Message, Reaction, WebhookEvent
from tests.connectors.meta.conftest import PSID, fixture_bytes
from tests.factories import ConversationFactory, IdentityFactory, MessageFactory
from tests.fakes.meta import error_body
from tests.fakes.server import Reply

pytestmark = pytest.mark.django_db

PAGE_MID = "m_EcHoEcHoA2cH9mE3nT5pH0oT8oX6yZ4aB1cD7eF2gH9iJ3kL5mN0oP8qR6sT4uV1wX7yZ2aB9cD3eF5gHpq"


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@pytest.fixture
def thread(messenger_account):
    """An existing DM with the fixtures' customer, holding one page message (PAGE_MID)."""
    identity = IdentityFactory(account=messenger_account, platform_user_id=PSID, name="Maya")
    conversation = ConversationFactory(
        account=messenger_account,
        contact=identity.contact,
        identity=identity,
        last_inbound_at=_ms(1767225600987),
    )
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        status=Message.Status.SENT,
        external_id=PAGE_MID,
        text="It shipped this morning",
        sent_at=_ms(1767226140988),
    )
    return conversation


def test_text_message_opens_a_conversation_and_fetches_the_profile_once(
    post_meta, messenger_account, fake_platforms
):
    assert post_meta("messenger_text.json").status_code == 200

    message = Message.objects.get()
    assert message.text == "Hi, has order #4521 shipped yet?"
    assert message.direction == Message.Direction.INBOUND
    assert message.sent_at == _ms(1767225600987)
    conversation = message.conversation
    assert conversation.kind == Conversation.Kind.DM
    assert conversation.last_inbound_at == message.sent_at
    identity = conversation.participants.get()
    assert identity.platform_user_id == PSID
    # Fetched in the background task (eager here), from the Graph profile endpoint.
    assert identity.name == "Maya Thompson"
    assert identity.avatar_url == "https://cdn.example/maya.jpg"
    assert identity.profile_fetched_at is not None
    assert conversation.contact.name == "Maya Thompson"

    post_meta("messenger_quick_reply.json")
    assert len(fake_platforms.sent("GET", rf"/{PSID}$")) == 1


def test_redelivered_post_makes_one_message(post_meta, messenger_account):
    post_meta("messenger_text.json")
    post_meta("messenger_text.json")

    assert Message.objects.count() == 1
    assert WebhookEvent.objects.count() == 2


def test_same_event_in_a_later_batch_makes_one_message(post_meta, messenger_account):
    post_meta("messenger_text.json")
    data = json.loads(fixture_bytes("messenger_text.json"))
    again = json.loads(json.dumps(data["entry"][0]))
    again["messaging"][0]["message"]["mid"] = "m_new_one"
    data["entry"].append(again)

    post_meta(json.dumps(data).encode())

    assert Message.objects.count() == 2
    assert Message.objects.filter(external_id="m_new_one").exists()


def test_quick_reply_payload_is_kept_for_the_chatbot(post_meta, messenger_account):
    post_meta("messenger_quick_reply.json")

    message = Message.objects.get()
    assert message.text == "Track my order"
    assert message.metadata["quick_reply"] == "TRACK_ORDER:4521"


def test_reply_to_links_the_quoted_message(post_meta, messenger_account, thread):
    quoted = MessageFactory(
        conversation=thread,
        external_id="m_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4Cd5Ef6Gh7Ij8Kl9Mn0Op1Qr2St3Uv4Wx5Yz6Ab7",
    )
    post_meta("messenger_reply_to.json")

    reply = Message.objects.get(text="Yes, that one please")
    assert reply.reply_to == quoted
    assert reply.conversation == thread


@pytest.mark.parametrize(
    ("name", "kind", "host"),
    [
        ("messenger_image.json", "image", "scontent.xx.fbcdn.net"),
        ("messenger_video.json", "video", "video.xx.fbcdn.net"),
        ("messenger_audio.json", "audio", "cdn.fbsbx.com"),
        ("messenger_file.json", "file", "cdn.fbsbx.com"),
    ],
)
def test_media_attachments(post_meta, messenger_account, name, kind, host):
    post_meta(name)

    attachment = Attachment.objects.get()
    assert attachment.kind == kind
    # `\/` escapes decoded: the URL is usable.
    assert attachment.url.startswith(f"https://{host}/")
    assert attachment.store_media is True
    # Unresolvable CDN host here: the background download records why, nothing else breaks.
    assert attachment.fetch_error


def test_attachment_media_is_downloaded_in_the_background(
    post_meta, messenger_account, fake_platforms
):
    body = {
        "object": "page",
        "entry": [
            {
                "id": messenger_account.external_id,
                "time": 1767225780455,
                "messaging": [
                    {
                        "sender": {"id": PSID},
                        "recipient": {"id": messenger_account.external_id},
                        "timestamp": 1767225780101,
                        "message": {
                            "mid": "m_cdn_1",
                            "attachments": [
                                {
                                    "type": "image",
                                    "payload": {"url": f"{fake_platforms.url}/meta/cdn/a.png"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    post_meta(json.dumps(body).encode())

    attachment = Attachment.objects.get()
    assert attachment.file
    assert attachment.content_type == "image/png"
    assert attachment.size == attachment.file.size


def test_sticker_sent_twice_during_the_transition_is_one_attachment(post_meta, messenger_account):
    post_meta("messenger_message__sticker_transition.json")

    attachment = Attachment.objects.get()
    assert attachment.kind == "sticker"
    assert attachment.metadata["sticker_id"] == "369239263222822"


def test_fallback_link_shares_are_links_and_not_downloaded(post_meta, messenger_account):
    post_meta("messenger_message__fallback_link.json")

    message = Message.objects.get()
    assert message.text == "https://example.com/mugs/blue"
    links = list(message.attachments.order_by("pk"))
    assert [a.kind for a in links] == ["link", "link"]
    assert links[0].name == "Blue mug – Acme"
    assert not any(a.store_media for a in links)
    assert not any(a.fetch_error for a in links)


def test_reel_and_post_shares(post_meta, messenger_account):
    post_meta("messenger_message__reel_and_post.json")

    reel, post = Message.objects.get().attachments.order_by("pk")
    assert (reel.kind, reel.metadata["type"], reel.metadata["reel_video_id"]) == (
        "share",
        "reel",
        "1234567890123456",
    )
    assert (post.kind, post.metadata["title"], post.metadata["id"]) == (
        "share",
        "Spring sale",
        "122145678901234999",
    )


def test_ad_referral_is_kept_with_the_message(post_meta, messenger_account):
    post_meta("messenger_message__ad_referral.json")

    referral = Message.objects.get().metadata["referral"]
    assert referral["source"] == "ADS"
    assert referral["ads_context_data"]["ad_title"] == "Blue mug"


def test_referral_into_an_existing_thread_reopens_the_window(post_meta, messenger_account, thread):
    post_meta("messenger_referral__existing_thread.json")

    thread.refresh_from_db()
    assert thread.last_inbound_at == _ms(1767312000000)
    assert thread.metadata["referral"]["ref"] == "qr_code_store"
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 0


@pytest.mark.parametrize(
    ("name", "title", "payload"),
    [
        ("messenger_postback.json", "Talk to an agent", "HANDOFF_HUMAN"),
        ("messenger_postback_get_started_referral.json", "Get Started", "GET_STARTED"),
        ("messenger_postback__test_event_field_value.json", "Returns", "RETURNS"),
    ],
)
def test_postbacks_are_the_customers_turn(post_meta, messenger_account, name, title, payload):
    post_meta(name)

    message = Message.objects.get()
    assert message.text == title
    assert message.metadata["postback"]["payload"] == payload
    assert message.conversation.last_inbound_at == message.sent_at


def test_get_started_referral_is_kept(post_meta, messenger_account):
    post_meta("messenger_postback_get_started_referral.json")
    assert Message.objects.get().metadata["referral"]["ref"] == "spring_campaign_2026"


def test_echo_of_parleys_own_send_confirms_it(post_meta, messenger_account, thread):
    own = MessageFactory(
        conversation=thread,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        status=Message.Status.SENDING,
        external_id=None,
        client_ref="inbox:msg:7f3c2a9e-1b4d-4e6f-9a8b-0c1d2e3f4a5b",
        text="It shipped this morning – tracking number 1Z999AA10123456784.",
    )
    Message.objects.filter(external_id=PAGE_MID).update(external_id="m_older")

    post_meta("messenger_echo.json")

    own.refresh_from_db()
    assert own.external_id == PAGE_MID
    assert own.status == Message.Status.SENT
    assert not Message.objects.filter(sent_outside_parley=True).exists()


def test_echo_matched_by_message_id_makes_no_second_message(post_meta, messenger_account, thread):
    before = Message.objects.count()
    post_meta("messenger_echo.json")
    assert Message.objects.count() == before


def test_echo_from_another_tool_is_an_agent_message_sent_outside_parley(
    post_meta, messenger_account, thread
):
    post_meta("messenger_echo__other_app.json")

    echo = Message.objects.get(external_id="m_bizsuite_1")
    assert echo.sent_outside_parley is True
    assert echo.direction == Message.Direction.OUTBOUND
    assert echo.sender_kind == Message.SenderKind.AGENT
    assert echo.conversation == thread
    assert echo.metadata["app_id"] == "263902037430900"
    assert echo.attachments.get().kind == "image"


def test_delivery_by_mids_marks_the_message_delivered(post_meta, messenger_account, thread):
    post_meta("messenger_delivery.json")

    assert Message.objects.get(external_id=PAGE_MID).status == Message.Status.DELIVERED


def test_delivery_by_watermark_alone(post_meta, messenger_account, thread):
    post_meta("messenger_delivery__no_mids.json")

    message = Message.objects.get(external_id=PAGE_MID)
    assert message.status == Message.Status.DELIVERED
    assert message.delivered_at == _ms(1767226140988)


def test_read_watermark_marks_earlier_messages_read(post_meta, messenger_account, thread):
    later = MessageFactory(
        conversation=thread,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        status=Message.Status.SENT,
        sent_at=_ms(1767226299999),
    )
    post_meta("messenger_read.json")
    post_meta("messenger_read.json")

    assert Message.objects.get(external_id=PAGE_MID).status == Message.Status.READ
    later.refresh_from_db()
    assert later.status == Message.Status.SENT


def test_reaction_is_shown_on_its_message_and_reopens_the_window(
    post_meta, messenger_account, thread
):
    post_meta("messenger_reaction.json")
    post_meta("messenger_reaction.json")

    reaction = Reaction.objects.get()
    assert reaction.message.external_id == PAGE_MID
    assert reaction.emoji == "\u2764\ufe0f"
    thread.refresh_from_db()
    assert thread.last_inbound_at == _ms(1767226360210)

    post_meta("messenger_unreact__message.json")
    assert Reaction.objects.count() == 0


def test_edit_replaces_the_text_and_keeps_the_history(post_meta, messenger_account):
    post_meta("messenger_text.json")
    post_meta("messenger_message_edit__text.json")

    message = Message.objects.get()
    assert message.text == "Hi, has order #4522 shipped yet?"
    assert message.metadata["edits"][0]["text"] == "Hi, has order #4521 shipped yet?"


def test_standby_events_are_handled_like_messaging(post_meta, messenger_account):
    post_meta("messenger_standby__message.json")

    message = Message.objects.get()
    assert message.metadata["standby"] is True


def test_batch_of_two_entries_makes_two_conversations(post_meta, messenger_account):
    post_meta("messenger_batch__two_entries.json")

    assert Message.objects.count() == 2
    assert Conversation.objects.count() == 2


def test_several_messaging_items_are_ordered_by_platform_time(post_meta, messenger_account):
    post_meta("messenger_batch__multi_messaging.json")

    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "sent second"
    texts = list(conversation.messages.order_by("sent_at").values_list("text", flat=True))
    assert texts == ["sent first", "sent second"]


def test_page_post_comment_becomes_a_comment_conversation(post_meta, messenger_account):
    post_meta("messenger_feed__comment.json")

    comment = Message.objects.get()
    assert comment.text == "My mug arrived cracked \U0001f61e"
    conversation = comment.conversation
    assert conversation.kind == Conversation.Kind.COMMENT
    assert conversation.external_thread_id == "122145678901234999_998877665544"
    assert comment.metadata["comment"]["post_id"] == "106917238123456_122145678901234999"
    assert conversation.contact.name == "Sam Rivera"


@pytest.mark.parametrize(
    "name", ["messenger_feed__like_ignored.json", "messenger_unknown__handover.json"]
)
def test_events_parley_does_not_use_are_acknowledged(post_meta, messenger_account, name):
    assert post_meta(name).status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.IGNORED
    assert Message.objects.count() == 0


def _text_body(account, mid, text, timestamp_ms, sender=PSID, url=None):
    message = {"mid": mid, "text": text}
    if url:
        message["attachments"] = [{"type": "image", "payload": {"url": url}}]
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": account.external_id,
                    "time": timestamp_ms,
                    "messaging": [
                        {
                            "sender": {"id": sender},
                            "recipient": {"id": account.external_id},
                            "timestamp": timestamp_ms,
                            "message": message,
                        }
                    ],
                }
            ],
        }
    ).encode()


def test_out_of_order_posts_are_ordered_by_platform_time(post_meta, messenger_account):
    post_meta(_text_body(messenger_account, "m_late", "second", 1767225700000))
    post_meta(_text_body(messenger_account, "m_early", "first", 1767225600000))

    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "second"
    assert conversation.last_inbound_at == _ms(1767225700000)
    assert list(conversation.messages.order_by("sent_at").values_list("text", flat=True)) == [
        "first",
        "second",
    ]


def test_batch_with_a_known_and_an_unknown_page(post_meta, messenger_account):
    known = json.loads(_text_body(messenger_account, "m_known", "hello", 1767225600000))
    unknown = json.loads(_text_body(messenger_account, "m_unknown", "hello", 1767225600000))
    unknown["entry"][0]["id"] = "555000555"
    known["entry"] += unknown["entry"]

    assert post_meta(json.dumps(known).encode()).status_code == 200

    assert list(Message.objects.values_list("external_id", flat=True)) == ["m_known"]
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.PROCESSED
    assert "unknown messenger account 555000555" in archived.error


def test_media_on_a_private_address_is_never_fetched(post_meta, messenger_account):
    post_meta(
        _text_body(messenger_account, "m_ssrf", "", 1767225600000, url="http://10.0.0.7/a.png")
    )

    attachment = Attachment.objects.get()
    assert not attachment.file
    assert "non-public" in attachment.fetch_error


def test_page_comment_edit_and_removal(post_meta, messenger_account):
    post_meta("messenger_feed__comment.json")
    post_meta("messenger_feed__comment_edited.json")

    comment = Message.objects.get()
    assert comment.text == "My mug arrived cracked, photo below"

    post_meta("messenger_feed__comment_removed.json")
    comment.refresh_from_db()
    assert comment.is_deleted is True


def test_reply_by_another_person_joins_the_comment_thread(post_meta, messenger_account):
    post_meta("messenger_feed__comment.json")
    post_meta("messenger_feed__comment_reply.json")

    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 2
    people = set(conversation.participants.values_list("platform_user_id", flat=True))
    assert people == {"7012345678901234", "7099999999999999"}


def test_profile_fetch_refused_for_good_is_not_asked_again(
    post_meta, messenger_account, fake_platforms
):
    fake_platforms.script("GET", rf"/{PSID}$", Reply(400, error_body(100, 33)))
    post_meta("messenger_text.json")
    post_meta("messenger_quick_reply.json")

    identity = Conversation.objects.get().participants.get()
    assert identity.profile_fetched_at is not None
    assert identity.name == ""
    assert len(fake_platforms.sent("GET", rf"/{PSID}$")) == 1


def test_profile_fetch_that_failed_for_now_is_tried_on_the_next_message(
    post_meta, messenger_account, fake_platforms
):
    fake_platforms.script("GET", rf"/{PSID}$", Reply(400, error_body(1200, 2018024)))
    post_meta("messenger_text.json")
    identity = Conversation.objects.get().participants.get()
    assert identity.profile_fetched_at is None

    post_meta("messenger_quick_reply.json")
    identity.refresh_from_db()
    assert identity.name == "Maya Thompson"
