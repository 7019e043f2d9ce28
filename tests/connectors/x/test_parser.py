"""The X parser on shapes the fixtures do not cover (no database)."""

from connectors.base import MessageEchoed, MessageReceived
from connectors.x import parser

ACCOUNT = "1366009876543210496"


def test_flat_v2_entities_expand_links_and_the_media_link_goes():
    page = {
        "data": [
            {
                "id": "1879320000000000001",
                "event_type": "MessageCreate",
                "text": "Guide https://t.co/Gd7Hh8Ii9J and photo https://t.co/Ph0to12345",
                "sender_id": "1489123456789012480",
                "dm_conversation_id": f"{ACCOUNT}-1489123456789012480",
                "created_at": "2026-01-03T08:00:00.000Z",
                "attachments": {"media_keys": ["16_1"]},
                # v2.152: entity lists beside the text, not under `entities`
                "urls": [
                    {
                        "start": 6,
                        "end": 29,
                        "url": "https://t.co/Gd7Hh8Ii9J",
                        "expanded_url": "https://example-mugs.com/care-guide",
                    }
                ],
            }
        ],
        "includes": {
            "media": [
                {
                    "media_key": "16_1",
                    "type": "animated_gif",
                    "variants": [
                        {"content_type": "video/mp4", "bit_rate": 0, "url": "https://video/a.mp4"}
                    ],
                }
            ]
        },
    }

    (event,) = parser.parse_dm_events(page, ACCOUNT)

    assert isinstance(event, MessageReceived)
    assert event.text == "Guide https://example-mugs.com/care-guide and photo"
    assert event.attachments[0].kind == "video"
    assert event.attachments[0].url == "https://video/a.mp4"


def test_best_video_variant_is_the_highest_bitrate_mp4():
    media = {
        "type": "video",
        "video_info": {
            "variants": [
                {"content_type": "application/x-mpegURL", "url": "https://v/playlist.m3u8"},
                {"content_type": "video/mp4", "bitrate": 256000, "url": "https://v/low.mp4"},
                {"content_type": "video/mp4", "bitrate": 2176000, "url": "https://v/high.mp4"},
            ]
        },
    }
    assert parser.media_attachment(media).url == "https://v/high.mp4"


def test_the_accounts_own_group_dm_is_an_echo_without_a_single_recipient():
    page = {
        "data": [
            {
                "id": "1879330000000000001",
                "event_type": "MessageCreate",
                "text": "Price list attached",
                "sender_id": ACCOUNT,
                "dm_conversation_id": "1582838213988016128",
                "created_at": "2026-01-03T09:00:00.000Z",
            }
        ]
    }
    (event,) = parser.parse_dm_events(page, ACCOUNT)
    assert isinstance(event, MessageEchoed) and not event.returns_client_ref
    assert event.kind == "group" and event.recipient.platform_user_id == ""


def test_one_to_one_thread_ids_sort_numerically():
    assert parser.one_to_one_thread("944480690", "906948460078698496") == (
        "944480690-906948460078698496"
    )


def test_snowflake_ids_carry_their_time():
    assert parser.snowflake_time("1585047616894574596").isoformat().startswith("2022-10-25T23:16")
