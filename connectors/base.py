"""The protocol every platform connector follows, and the normalized events they produce.

A connector turns its platform's webhook bodies (or polled pages) into the small set of event
types below and turns an ``OutboundMessage`` into the platform's send call. Nothing outside
``connectors/`` sees a platform's JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import requests

    from inbox.models import PlatformAccount


# --- Errors -----------------------------------------------------------------------------------


class WebhookRejected(Exception):
    """A webhook request refused before processing; carries the HTTP status to answer."""

    def __init__(self, status: int, reason: str, *, retry_after: float | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        # Seconds, sent as Retry-After (a 429).
        self.retry_after = retry_after


class PayloadError(Exception):
    """A stored body that cannot be parsed into events (kept with this error for a replay)."""


def decode_json(body: bytes) -> Any:
    """A webhook body's JSON; PayloadError when it is not JSON or nests too deeply for the
    parser (``[[[[…`` raises RecursionError, not ValueError: a 500 if left uncaught)."""
    try:
        return json.loads(body)
    except ValueError as exc:
        raise PayloadError(f"not JSON: {exc}") from exc
    except RecursionError:
        raise PayloadError("not JSON Parley reads: nested too deeply") from None


class DeliveryError(Exception):
    """A send that failed. ``permanent`` failures are never retried; ``reason`` is for agents.

    ``auth`` marks an invalid or revoked token: the account needs re-authorisation and its
    queued messages wait instead of failing.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        code: str = "",
        auth: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.code = code
        self.auth = auth


# --- Webhooks: what a connector tells the entrance -------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a signature check found: whether a secret matched, and for which accounts
    (external ids; ``None``: every account, the app-wide secret matched)."""

    valid: bool
    accounts: frozenset[str] | None = None


UNSIGNED = Verdict(valid=False)


@dataclass(frozen=True)
class HandshakeReply:
    """The answer to a platform's GET verification of its webhook URL, as it expects it."""

    body: str
    content_type: str = "text/plain"


@dataclass(frozen=True)
class Inspection:
    """A webhook POST as its connector reads it, before the entrance archives it."""

    # The registry name that parses the body (Meta's one endpoint serves two platforms).
    source: str
    # The account the archive row points at; None for a batch naming several, or none known.
    account: PlatformAccount | None
    verdict: Verdict


# --- Normalized inbound events ----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone on the platform as the event names them."""

    platform_user_id: str
    name: str = ""
    username: str = ""
    avatar_url: str = ""


@dataclass(frozen=True)
class IncomingAttachment:
    kind: str  # one of inbox.models.Attachment.Kind
    url: str = ""
    content_type: str = ""
    name: str = ""
    size: int | None = None
    # False for media the platform's rules forbid storing (Instagram story mentions).
    store_media: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """Base of every normalized event: which account it belongs to, and when it happened."""

    platform: str
    account_external_id: str
    timestamp: datetime


@dataclass(frozen=True)
class MessageReceived(Event):
    """A customer's message (or comment) to the account."""

    external_id: str
    sender: Person
    text: str = ""
    attachments: tuple[IncomingAttachment, ...] = ()
    reply_to_external_id: str | None = None
    # Platform thread id: X dm_conversation_id, a commented post's id. None for Meta DMs.
    thread_external_id: str | None = None
    kind: str = "dm"  # dm, group, comment
    participants: tuple[Person, ...] = ()
    # Shown to agents and read by the chatbot: quick_reply payload, postback, referral, story...
    metadata: dict[str, Any] = field(default_factory=dict)
    # Whether this event (re)opens the platform's reply window.
    opens_window: bool = True


@dataclass(frozen=True)
class MessageEchoed(Event):
    """A message the account itself sent: through Parley (recognised) or from another tool."""

    external_id: str
    recipient: Person
    text: str = ""
    attachments: tuple[IncomingAttachment, ...] = ()
    thread_external_id: str | None = None
    kind: str = "dm"
    # Our client_ref when the platform hands it back (Meta `metadata`).
    client_ref: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # False when the platform never hands our reference back (X, LinkedIn): a copy that beats
    # the send's answer is then recognised by its thread and text. An empty recipient (a group
    # or a post) means "the thread's contact".
    returns_client_ref: bool = True


@dataclass(frozen=True)
class MessagesDelivered(Event):
    """Outbound messages delivered: by id, or everything sent up to ``watermark``."""

    counterpart_id: str
    external_ids: tuple[str, ...] = ()
    watermark: datetime | None = None


@dataclass(frozen=True)
class MessagesRead(Event):
    counterpart_id: str
    external_ids: tuple[str, ...] = ()
    watermark: datetime | None = None
    # The last message the contact read (X names one event): everything sent up to it is read.
    up_to_external_id: str = ""


@dataclass(frozen=True)
class ReactionChanged(Event):
    message_external_id: str
    by: Person
    emoji: str = ""
    removed: bool = False


@dataclass(frozen=True)
class MessageDeleted(Event):
    external_id: str


@dataclass(frozen=True)
class MessageEdited(Event):
    external_id: str
    text: str


@dataclass(frozen=True)
class WindowOpened(Event):
    """A contact action that is not a message but (re)opens the reply window: a reaction, an
    ad or link referral into an existing thread. ``metadata`` (the referral) is kept on the
    conversation."""

    by: Person
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ContactSeen(Event):
    """A contact the platform names by id only: its profile (name, picture, username) is to be
    fetched once, in the background (connectors with ``fetch_profile``)."""

    person: Person


@dataclass(frozen=True)
class AccountRevoked(Event):
    """The platform says the account's authorisation is gone."""

    reason: str = ""


@dataclass(frozen=True)
class Typing(Event):
    """The contact is typing: shown live, never stored as a message."""

    by: Person
    thread_external_id: str | None = None


@dataclass(frozen=True)
class ParticipantsChanged(Event):
    """People joined or left a group conversation; shown as a system message."""

    external_id: str
    thread_external_id: str
    joined: bool
    participants: tuple[Person, ...] = ()
    by: Person | None = None
    # Kept on the system message, for the record ({"x_event": "ParticipantsJoin"}...).
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PostActivity(Event):
    """Something happened on one of the account's posts (LinkedIn likes, shares, comments...),
    applied once per ``activity_id``: counted on the post, and ``inner`` (a comment as a
    message, its edit or deletion) applied like any other event."""

    activity_id: str
    post_external_id: str
    # The platform's name for what happened, kept with the record.
    action: str
    # Which of the post's counters moves ("likes", "shares", "comments", "mentions"), and by how
    # much; empty: none.
    counter: str = ""
    step: int = 0
    post_text: str = ""
    actor_external_id: str = ""
    inner: Event | None = None


# --- Outbound ---------------------------------------------------------------------------------


class SendWindow(StrEnum):
    """Which of the platform's reply windows a send relies on, as the reply policy decided it;
    the connector maps it to its wire terms (Meta's messaging type and tag)."""

    NONE = ""
    # Inside the free window after the contact's last message.
    WITHIN = "within_window"
    # Past it, inside the longer window some platforms give a human agent.
    EXTENDED_AGENT = "extended_agent_window"


# Reads an outbound attachment's bytes, at most the given size: (content, content type). The
# domain supplies it for platforms that take media by upload, not by URL (X); it raises
# DeliveryError when the file cannot be read or is too large.
MediaReader = Callable[[int], tuple[bytes, str]]


@dataclass(frozen=True)
class OutboundAttachment(IncomingAttachment):
    read: MediaReader | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OutboundMessage:
    """A message to send, as the connector needs it."""

    text: str
    client_ref: str
    # The customer's platform id (1:1), or the platform thread id (groups, comments).
    recipient_id: str | None = None
    thread_external_id: str | None = None
    conversation_kind: str = "dm"
    attachments: tuple[IncomingAttachment, ...] = ()
    quick_replies: tuple[str, ...] = ()
    # From the reply policy: the window the send relies on (a SendWindow value).
    window: str = SendWindow.NONE
    reply_to_external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    external_id: str
    thread_external_id: str | None = None


@dataclass(frozen=True)
class PollResult:
    """What one polling pass found, and where the next pass starts (kept by the domain on the
    account as ``poll_cursor``)."""

    events: list[Event]
    cursor: dict[str, Any]
    # Why the pass ended early without raising (raising would lose what it found and, on X, a
    # refresh token already spent); shown on the account.
    problem: str = ""


@dataclass(frozen=True)
class HistoryPage:
    """One page of an account's history (messages from before Parley knew the account), and
    where the next page starts. The events are ordinary normalized events; the domain applies
    them as closed history."""

    events: list[Event]
    # Where the next page starts (kept by the domain with the events it covers); None: done.
    cursor: dict[str, Any] | None
    # Items read from the platform on this page (messages, comments), for the progress shown.
    items: int = 0
    # The oldest platform time this page reached: pages go from now back to the period's start,
    # so this is how far the import has come.
    reached: datetime | None = None


# --- Rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformRules:
    """What a platform allows, as data: the services enforce it, the composer shows it."""

    # Free reply window after the contact's last window-opening event; None: no window.
    reply_window: timedelta | None = None
    # Extended window for human agents (Meta's human-agent tag) when the account enables it.
    human_agent_window: timedelta | None = None
    max_text_length: int = 10_000
    attachments_per_message: int = 1
    max_attachment_bytes: int = 25 * 1024 * 1024
    # People in one group conversation, the account included; None: no groups.
    max_group_participants: int | None = None
    # Contacts in one send to several people at once.
    max_recipients_per_send: int = 1
    business_can_initiate: bool = False
    read_receipts: bool = False
    reactions: bool = False
    quick_replies: bool = False
    # Public replies under a customer's comment.
    comment_replies: bool = False
    # Characters in one public reply, where it is shorter than a message (an X post: 280).
    max_comment_length: int | None = None
    # Whether the platform has direct messages at all (LinkedIn Pages: comments only).
    direct_messages: bool = True
    # One private reply (a DM) to a comment's author: Meta's comment → DM move.
    private_replies: bool = False
    # "Seen" and "typing" shown to the contact (Meta sender actions).
    sender_actions: bool = False
    # Sends per second the platform allows per account.
    send_rate_per_second: float | None = None


# --- The connector protocol -------------------------------------------------------------------


class Connector:
    """Base class of platform connectors. Subclasses are registered in ``connectors.registry``."""

    platform: ClassVar[str]
    rules: ClassVar[PlatformRules]
    # `connect_account --credential KEY=VALUE` keys that are settings, not secrets: they go to
    # the account's options (readable) instead of its encrypted credentials.
    option_keys: ClassVar[frozenset[str]] = frozenset()

    # What the platform's webhook URL answers: POST deliveries, and GET where the platform
    # verifies the URL with a handshake first.
    webhook_methods: ClassVar[tuple[str, ...]] = ("POST",)
    # True when ``inspect_webhook`` reads accounts only through
    # ``connectors.webhooks.named_accounts`` and makes no other query: a delivery can then be
    # inspected on the event loop from the accounts cache (``accounts_from_cache``).
    inspects_from_cache: ClassVar[bool] = False

    def answer_handshake(self, query: Mapping[str, str]) -> HandshakeReply:
        """The reply to the platform's GET handshake (Meta ``hub.*``, X CRC, LinkedIn
        ``challengeCode``); WebhookRejected when the request is not a valid one."""
        raise WebhookRejected(405, "POST only")

    def inspect_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        payload: dict[str, Any] | None,
        *,
        account_id: int | None,
    ) -> Inspection:
        """Check a webhook POST's signature over the raw ``body`` with every secret that may
        have signed it, and name its account. ``payload`` is the body's JSON object (None when
        it is not one: the entrance archives it and answers 400 once the signature holds);
        ``account_id`` comes from the URL (the sandbox); ``headers`` match any case. Reads,
        never writes: the entrance archives and answers."""
        raise WebhookRejected(405, f"{self.platform} has no webhook")

    def parse(self, body: bytes, *, account: PlatformAccount | None) -> list[Event]:
        """Turn an archived webhook body into normalized events; PayloadError if it cannot."""
        raise PayloadError(f"{self.platform} does not parse webhooks")

    def send(self, account: PlatformAccount, message: OutboundMessage) -> SendResult:
        """Send one message; raise DeliveryError on failure."""
        raise DeliveryError(f"{self.platform} cannot send messages", permanent=True)

    def poll(self, account: PlatformAccount) -> PollResult:
        """Fetch what arrived since the account's ``poll_cursor`` (accounts without webhooks)."""
        return PollResult(events=[], cursor=dict(account.poll_cursor or {}))

    def polls(self, account: PlatformAccount) -> bool:
        """Whether this account is kept up to date by polling."""
        return False

    def imports_history(self, account: PlatformAccount) -> bool:
        """Whether the platform lets Parley read this account's recent history."""
        return False

    def history_page(
        self, account: PlatformAccount, cursor: dict[str, Any], since: datetime
    ) -> HistoryPage:
        """The next page of the account's history back to ``since``, newest first, starting at
        ``cursor`` (``{}`` for the first page); DeliveryError (``rate_limited`` with its wait)
        when the platform refuses."""
        raise DeliveryError(f"{self.platform} has no history to import", permanent=True)

    def fetch_profile(self, account: PlatformAccount, platform_user_id: str) -> Person | None:
        """The contact's profile from the platform (None: the platform has no profile API)."""
        return None

    def find_person(self, account: PlatformAccount, handle: str) -> Person | None:
        """Someone on the platform by public handle (``@name`` without the ``@``), for a first
        contact; None when the platform has no such lookup or no such user. DeliveryError when
        the platform cannot answer."""
        return None

    def sender_action(self, account: PlatformAccount, recipient_id: str, action: str) -> None:
        """Show "seen" or "typing" to the contact (``mark_seen``, ``typing_on``, ``typing_off``);
        platforms without sender actions ignore it."""
        return None

    def media_session(self, account: PlatformAccount) -> requests.Session | None:
        """A session carrying the account's credentials, for platforms whose media URLs need
        them (X DM media); None: media is downloaded without credentials."""
        return None

    def check_connection(self, account: PlatformAccount) -> str:
        """Call the platform's identity endpoint; return what it found ("Page Acme Shop",
        "@acme") or raise DeliveryError saying what is wrong."""
        raise DeliveryError(f"{self.platform} has no connection check", permanent=True)
