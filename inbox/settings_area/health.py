"""Account health: is each platform account working, and if not, what is wrong — in words.

Computed from what Parley already records: the account's status and last error (token errors
from delivery, revocations from webhooks), when its last event arrived and how often events
usually arrive (``WebhookEvent`` rows), polling results, and outbound messages failing in a row.
Nothing here calls a platform; ``accounts.check_connection`` does that on request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.registry import get_connector
from inbox.formatting import duration
from inbox.models import Message, PlatformAccount, WebhookEvent
from inbox.settings_area.models import WebhookHandshake

log = logging.getLogger(__name__)

# An account is "webhook silent" when nothing arrived for SILENT_FACTOR times its usual gap
# between events (measured over HISTORY), and never sooner than SILENT_MIN.
SILENT_FACTOR = 6
SILENT_MIN = timedelta(minutes=30)
HISTORY = timedelta(days=7)
# Events needed in HISTORY before the usual gap means anything, and how many recent ones
# measure it.
MIN_EVENTS_FOR_GAP = 5
GAP_SAMPLE = 50
# "Events today" is counted up to this (a busy account's day is not counted row by row).
TODAY_CAP = 10_000
# Polling runs every minute (parley.celery.PERIODIC_TASKS); three missed passes is a failure.
POLL_STALE = timedelta(minutes=3)
# This many outbound messages failing in a row (and none sent since) is a failing account.
FAILED_SENDS_IN_A_ROW = 3

# Which webhook endpoint serves a platform (Meta's one endpoint serves Messenger and Instagram).
WEBHOOK_SOURCE = {"messenger": "meta", "instagram": "meta", "x": "x", "linkedin": "linkedin"}


class State:
    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"
    POLLING_FAILING = "polling_failing"
    SENDS_FAILING = "sends_failing"
    WEBHOOK_SILENT = "webhook_silent"
    CHECK_FAILED = "check_failed"
    DISCONNECTED = "disconnected"

    LABELS = {
        CONNECTED: "Connected",
        NEEDS_REAUTH: "Needs re-authorisation",
        POLLING_FAILING: "Polling failing",
        SENDS_FAILING: "Sends failing",
        WEBHOOK_SILENT: "Webhook silent",
        CHECK_FAILED: gettext_lazy("Connection check failed"),
        DISCONNECTED: "Disconnected",
    }


@dataclass(frozen=True)
class AccountHealth:
    account: PlatformAccount
    state: str
    # What is wrong, in words an admin acts on; empty when healthy.
    problem: str
    last_event_at: datetime | None
    events_today: int
    # The usual time between events over the last week, when known.
    usual_gap: timedelta | None

    @property
    def label(self) -> str:
        return str(State.LABELS[self.state])

    @property
    def healthy(self) -> bool:
        return self.state == State.CONNECTED

    @property
    def events_today_text(self) -> str:
        return f"{TODAY_CAP}+" if self.events_today > TODAY_CAP else str(self.events_today)

    @property
    def last_error(self) -> str:
        """What went wrong last, in words: the current problem, or an error that did not
        change the state (a failed webhook subscription, one failed poll)."""
        return self.problem or _in_words(self.account.last_error)

    def as_dict(self) -> dict:
        return {
            "id": self.account.pk,
            "platform": self.account.platform,
            "name": self.account.name,
            "external_id": self.account.external_id,
            "state": self.state,
            "label": self.label,
            "problem": self.problem,
            "last_error": self.last_error,
            "last_event_at": self.last_event_at.isoformat() if self.last_event_at else None,
            "events_today": self.events_today,
        }


def _polls(account: PlatformAccount) -> bool:
    try:
        return get_connector(account.platform).polls(account)
    except LookupError:
        return False


def _failing_sends(account_ids: list[int]) -> dict[int, str]:
    """Accounts whose last FAILED_SENDS_IN_A_ROW finished sends all failed → the last error."""
    failing: dict[int, str] = {}
    for account_id in account_ids:
        # Newest first by id (the primary key index); only finished sends count.
        last = list(
            Message.objects.filter(account_id=account_id, direction=Message.Direction.OUTBOUND)
            .exclude(status__in=[Message.Status.QUEUED, Message.Status.SENDING])
            .order_by("-id")
            .values_list("status", "error")[:FAILED_SENDS_IN_A_ROW]
        )
        if len(last) == FAILED_SENDS_IN_A_ROW and all(s == Message.Status.FAILED for s, _ in last):
            failing[account_id] = last[0][1]
    return failing


def _start_of_today(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _recent_deliveries(account_id: int, now: datetime) -> dict | None:
    """The account's last GAP_SAMPLE deliveries within HISTORY: how many, first, last. A
    bounded read on index webhook_account_received — never a count over a week of traffic."""
    times = list(
        WebhookEvent.objects.filter(
            account_id=account_id, received_at__gte=now - HISTORY, received_at__lte=now
        )
        .exclude(outcome=WebhookEvent.Outcome.REJECTED)
        .exclude(is_test=True)  # the settings area's test events are not the platform speaking
        .order_by("-received_at")
        .values_list("received_at", flat=True)[:GAP_SAMPLE]
    )
    if not times:
        return None
    return {"n": len(times), "first": times[-1], "last": times[0]}


def _count_today(account_id: int, now: datetime) -> int:
    """Webhook deliveries today, counted up to TODAY_CAP (the page shows "10000+" beyond).
    Rejected ones (bad signature) are included: filtering on the outcome turns an index-only
    scan of webhook_account_received (~2 ms) into a heap scan (~0.5 s on a busy archive)."""
    return (
        WebhookEvent.objects.filter(
            account_id=account_id, received_at__gte=_start_of_today(now), received_at__lte=now
        )
        .values("received_at")[: TODAY_CAP + 1]
        .count()
    )


def accounts_health(
    accounts: list[PlatformAccount] | None = None,
    *,
    now: datetime | None = None,
    count_today: bool = True,
) -> list[AccountHealth]:
    """Health of the given accounts (all, by default): a few bounded index reads per account.
    ``count_today=False`` skips the day's counts (the banner does not show them)."""
    now = now or timezone.now()
    if accounts is None:
        accounts = list(PlatformAccount.objects.order_by("platform", "name", "id"))
    if not accounts:
        return []
    failing = _failing_sends(
        [a.pk for a in accounts if a.status != PlatformAccount.Status.DISCONNECTED]
    )

    def recent(account: PlatformAccount) -> dict | None:
        # An account that heard from its platform within SILENT_MIN cannot be silent: the
        # banner skips measuring its usual gap (the list shows it, so it always measures).
        fresh = account.last_event_at is not None and now - account.last_event_at <= SILENT_MIN
        if fresh and not count_today:
            return None
        return _recent_deliveries(account.pk, now)

    return [
        _health(
            account,
            now,
            _count_today(account.pk, now) if count_today else 0,
            recent(account),
            failing,
        )
        for account in accounts
    ]


def account_health(account: PlatformAccount, *, now: datetime | None = None) -> AccountHealth:
    return accounts_health([account], now=now)[0]


def _health(
    account: PlatformAccount,
    now: datetime,
    events_today: int,
    history: dict | None,
    failing: dict[int, str],
) -> AccountHealth:
    last_event = account.last_event_at
    if history and (last_event is None or history["last"] > last_event):
        last_event = history["last"]
    usual_gap = None
    if history and history["n"] >= MIN_EVENTS_FOR_GAP:
        usual_gap = (history["last"] - history["first"]) / (history["n"] - 1)

    def result(state: str, problem: str = "") -> AccountHealth:
        return AccountHealth(account, state, problem, last_event, events_today, usual_gap)

    status = account.status
    if status == PlatformAccount.Status.DISCONNECTED and account.disconnected_at is None:
        # Not an admin's choice: the platform revoked the authorisation (X user_event.revoke).
        return result(
            State.NEEDS_REAUTH,
            _in_words(account.last_error)
            or "The platform revoked this account's authorisation: connect it again.",
        )
    if status == PlatformAccount.Status.DISCONNECTED:
        return result(
            State.DISCONNECTED,
            account.last_error
            or "Disconnected: Parley neither receives nor "
            "sends for this account. Its conversations are kept.",
        )
    if status in (PlatformAccount.Status.NEEDS_REAUTH, PlatformAccount.Status.ERROR):
        return result(
            State.NEEDS_REAUTH,
            _in_words(account.last_error)
            or "The platform no longer accepts this account's credentials: connect it again.",
        )
    if account.last_check_ok is False:
        # The admin asked the platform and it failed: that is the account's state until a
        # check succeeds (or new credentials are saved), whatever else looks fine.
        return result(
            State.CHECK_FAILED,
            _("The last connection check failed: %(reason)s")
            % {"reason": account.last_check_result or _("no reason given")},
        )
    polls = _polls(account)
    if polls and account.last_error:
        stale = account.last_polled_at is None or now - account.last_polled_at > POLL_STALE
        if stale:
            return result(State.POLLING_FAILING, f"Polling fails: {account.last_error}")
    if account.pk in failing:
        return result(
            State.SENDS_FAILING,
            f"The last {FAILED_SENDS_IN_A_ROW} replies failed. Last error: "
            f"{failing[account.pk] or 'no reason given'}",
        )
    if not polls and usual_gap is not None and last_event is not None:
        allowed = max(SILENT_MIN, usual_gap * SILENT_FACTOR)
        silent_for = now - last_event
        if silent_for > allowed:
            return result(
                State.WEBHOOK_SILENT,
                f"No webhook for {duration(silent_for.total_seconds(), decimals=1)}; events "
                f"usually arrive every {duration(usual_gap.total_seconds())}. Check the webhook "
                "subscription on the platform.",
            )
    return result(State.CONNECTED)


# The banner's cached reads (templatetags/settings_area.py); forgotten when an admin changes
# an account, so a reconnect shows at once.
BANNER_CACHE_KEY = "settings_area:banner"


def forget_banner() -> None:
    from django.core.cache import cache

    cache.delete(BANNER_CACHE_KEY)


def unhealthy_accounts(*, now: datetime | None = None) -> list[AccountHealth]:
    """What the admin banner lists: accounts that need an admin (disconnected ones excluded —
    an admin chose that)."""
    return [
        h
        for h in accounts_health(now=now, count_today=False)
        if not h.healthy and h.state != State.DISCONNECTED
    ]


def _in_words(error: str) -> str:
    """Platform errors as an admin reads them."""
    if not error:
        return ""
    lowered = error.lower()
    if "190" in error or "expired" in lowered or "invalid oauth" in lowered:
        return f"The access token is invalid or expired: connect the account again. ({error})"
    return error


# --- Webhook handshakes -----------------------------------------------------------------------


def record_handshake(platform: str, account: PlatformAccount | None = None) -> None:
    """The webhook entrance calls this when a verification handshake succeeded (Meta
    ``hub.challenge``, X CRC, LinkedIn ``challengeCode``). Never raises: the handshake's answer
    matters more than this bookkeeping."""
    source = WEBHOOK_SOURCE.get(platform, platform)
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = WebhookHandshake.objects.filter(platform=source, account=account).update(
                last_seen_at=now, count=Coalesce(F("count"), 0) + 1
            )
            if not updated:
                WebhookHandshake.objects.create(
                    platform=source, account=account, first_seen_at=now, last_seen_at=now, count=1
                )
    except IntegrityError:
        # Two handshakes at once: the other one created the row.
        WebhookHandshake.objects.filter(platform=source, account=account).update(
            last_seen_at=now, count=F("count") + 1
        )
    except Exception:  # noqa: BLE001 - bookkeeping must never break a handshake answer
        log.exception("could not record the %s webhook handshake", source)


def handshake_for(account: PlatformAccount) -> WebhookHandshake | None:
    """The handshake that proves this account's webhook is set up: its own, or its app's."""
    source = WEBHOOK_SOURCE.get(account.platform)
    if source is None:
        return None
    return (
        WebhookHandshake.objects.filter(platform=source, account__in=[account])
        .order_by("-last_seen_at")
        .first()
        or WebhookHandshake.objects.filter(platform=source, account__isnull=True).first()
    )


def first_signed_delivery(account: PlatformAccount) -> WebhookEvent | None:
    """Platforms without a handshake (the sandbox): the first correctly signed delivery proves
    the set-up instead."""
    return (
        WebhookEvent.objects.filter(account=account, signature_valid=True)
        .order_by("received_at", "id")
        .first()
    )
