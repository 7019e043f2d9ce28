"""Meta's messaging rules as data (REFERENCE §5, §8), read by ``inbox.policy``."""

from __future__ import annotations

from datetime import timedelta

from connectors.base import PlatformRules

# Standard messaging window after the contact's last window-opening action.
REPLY_WINDOW = timedelta(hours=24)
# HUMAN_AGENT tag: a person (never the bot) may answer up to 7 days after.
HUMAN_AGENT_WINDOW = timedelta(days=7)
# One private reply per comment, within 7 days of the comment.
PRIVATE_REPLY_WINDOW = timedelta(days=7)
# Send API: 300 calls per second per Page or Instagram account (10/s for audio and video).
SEND_RATE_PER_SECOND = 300


def meta_rules(
    *, max_text_length: int, attachments_per_message: int, max_recipients_per_send: int
) -> PlatformRules:
    return PlatformRules(
        reply_window=REPLY_WINDOW,
        human_agent_window=HUMAN_AGENT_WINDOW,
        max_text_length=max_text_length,
        attachments_per_message=attachments_per_message,
        max_attachment_bytes=25 * 1024 * 1024,
        # Page conversations are one to one; Instagram has no group messaging.
        max_group_participants=None,
        max_recipients_per_send=max_recipients_per_send,
        business_can_initiate=False,
        read_receipts=True,
        reactions=True,
        quick_replies=True,
        comment_replies=True,
        private_replies=True,
        sender_actions=True,
        send_rate_per_second=SEND_RATE_PER_SECOND,
    )
