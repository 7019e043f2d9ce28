"""What happened to each recipient of a campaign, and the campaign's totals and rates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Recipient
from inbox.models import Message

# A recipient's status, in the report's order, with its name for people.
STATUS_NAMES = {
    "pending": _("Waiting its turn"),
    "skipped": _("Left out"),
    "queued": _("Queued"),
    "sent": _("Sent"),
    "delivered": _("Delivered"),
    "read": _("Read"),
    "replied": _("Replied"),
    "opted_out": _("Opted out"),
    "failed": _("Failed"),
}
STATUSES = tuple(STATUS_NAMES)
_FROM_MESSAGE = {
    Message.Status.QUEUED: "queued",
    Message.Status.SENDING: "queued",
    Message.Status.SENT: "sent",
    Message.Status.DELIVERED: "delivered",
    Message.Status.READ: "read",
    Message.Status.FAILED: "failed",
}


@dataclass(frozen=True)
class Row:
    recipient: Recipient
    status: str
    # A left-out recipient's code (campaigns.eligibility), or a failed message's error.
    reason: str = ""
    # The sentence for people (the code's explanation).
    detail: str = ""


def row(recipient: Recipient) -> Row:
    """The status a person would name: left out and why, waiting, or how far the message got;
    an opt-out or a reply after it says more than "read"."""
    if recipient.state == Recipient.State.PENDING:
        return Row(recipient, "pending")
    if recipient.state == Recipient.State.SKIPPED:
        return Row(recipient, "skipped", recipient.reason, recipient.detail)
    if recipient.opted_out_at is not None:
        return Row(recipient, "opted_out")
    if recipient.replied_at is not None:
        return Row(recipient, "replied")
    message = recipient.message
    if message is None:
        return Row(recipient, "failed", "message_deleted", "The message was deleted.")
    status = _FROM_MESSAGE.get(message.status, "queued")
    if status == "failed":
        return Row(recipient, status, message.error, message.error)
    return Row(recipient, status)


def rows(campaign: Campaign) -> list[Row]:
    recipients = (
        Recipient.objects.filter(campaign=campaign)
        .select_related("contact", "message")
        .only(
            "state",
            "reason",
            "detail",
            "replied_at",
            "opted_out_at",
            "contact__id",
            "contact__name",
            "message__status",
            "message__error",
        )
        .order_by("pk")
    )
    return [row(r) for r in recipients]


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]
    # Of the recipients a message was queued to.
    messaged: int
    reply_rate: float | None
    opt_out_rate: float | None


def summary(report_rows: list[Row]) -> Summary:
    counts = Counter(r.status for r in report_rows)
    # Replied and opted-out recipients were messaged too (their message went first).
    messaged = sum(counts[s] for s in STATUSES if s not in ("pending", "skipped"))
    delivered = messaged - counts["failed"] - counts["queued"]
    # A "STOP" is a message too: it counts as an opt-out, not as a reply.
    return Summary(
        counts={s: counts[s] for s in STATUSES},
        messaged=messaged,
        reply_rate=counts["replied"] / delivered if delivered else None,
        opt_out_rate=counts["opted_out"] / delivered if delivered else None,
    )
