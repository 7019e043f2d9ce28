"""Admin actions on platform accounts: manual credentials, disconnect, connection check, test
event, webhook archive and replay. Each change is audited (credential names, never values)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connectors import testevents
from connectors.base import DeliveryError
from connectors.registry import CONNECTORS, get_connector
from inbox import history, ingest, services, webhooks
from inbox.accounts import connect_account
from inbox.delivery import resume_account
from inbox.models import Platform, PlatformAccount, Team, User, WebhookEvent
from inbox.settings_area import audit, health
from inbox.tasks import start_history_import

log = logging.getLogger(__name__)

# Credential keys each platform's connector reads (issue 3 and 4 contracts); the manual form
# offers these as write-only fields.
CREDENTIAL_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    Platform.SANDBOX: (("secret", "Webhook signing secret"),),
    Platform.MESSENGER: (
        ("page_access_token", "Page access token"),
        ("app_secret", "App secret (only if it differs from META_APP_SECRET)"),
        ("verify_token", "Webhook verify token (only if it differs from META_VERIFY_TOKEN)"),
    ),
    Platform.INSTAGRAM: (
        ("access_token", "Access token"),
        ("app_secret", "App secret (Instagram Login apps)"),
        ("verify_token", "Webhook verify token (only if it differs from META_VERIFY_TOKEN)"),
    ),
    Platform.X: (
        ("access_token", "OAuth 2.0 user access token"),
        ("refresh_token", "Refresh token"),
        ("consumer_secret", "Consumer secret (only if it differs from X_CONSUMER_SECRET)"),
    ),
    Platform.LINKEDIN: (
        ("access_token", "Access token"),
        ("client_secret", "Client secret (only if it differs from LINKEDIN_CLIENT_SECRET)"),
    ),
}
MAX_REPLAY = 500


class ActionRefused(Exception):
    """An admin action that cannot be done; the message says why."""


def platform_available(platform: str) -> bool:
    return platform in CONNECTORS


@transaction.atomic
def save_manual(
    *,
    actor: User,
    platform: str,
    external_id: str,
    name: str,
    credentials: dict[str, str],
    options: dict[str, str] | None = None,
    teams: list[Team] = (),
) -> PlatformAccount:
    """Create or update an account from typed-in credentials. Empty fields keep their stored
    value (the fields are write-only: what is stored is never shown to fill them in)."""
    if not platform_available(platform):
        raise ActionRefused(f"The {platform} connector is not installed in this Parley.")
    given = {k: v.strip() for k, v in credentials.items() if v and v.strip()}
    existing = PlatformAccount.objects.filter(platform=platform, external_id=external_id).first()
    if existing is None and not given:
        raise ActionRefused("Enter the account's credentials to connect it.")
    before = _snapshot(existing)
    account, created = connect_account(
        platform=platform,
        external_id=external_id,
        name=name,
        settings={**given, **(options or {})},
        teams=[t.name for t in teams],
    )
    if account.disconnected_at:
        account.disconnected_at = None
        account.save(update_fields=["disconnected_at"])
    if given and account.last_check_ok is False:
        # A failed check was about the credentials just replaced: no longer the account's state.
        account.last_check_ok = None
        account.save(update_fields=["last_check_ok"])
    audit.record(
        actor=actor,
        action="account.connected" if created else "account.updated",
        target=account,
        changes={k: (before.get(k), v) for k, v in _snapshot(account).items()},
        credential_keys=given.keys(),
    )
    transaction.on_commit(health.forget_banner)
    if created and history.available(account):
        start_history_import(account=account, actor=actor)
    return account


def _snapshot(account: PlatformAccount | None) -> dict[str, Any]:
    if account is None:
        return {}
    return {"name": account.name, "status": account.status, "options": account.options}


@transaction.atomic
def update_credentials(
    *, actor: User, account: PlatformAccount, credentials: dict[str, str]
) -> list[str]:
    """Replace some credentials; returns the names changed."""
    given = {k: v.strip() for k, v in credentials.items() if v and v.strip()}
    if not given:
        return []
    save_manual(
        actor=actor,
        platform=account.platform,
        external_id=account.external_id,
        name=account.name,
        credentials=given,
    )
    return sorted(given)


@transaction.atomic
def disconnect(*, actor: User, account: PlatformAccount) -> None:
    """Stop receiving and sending for the account; its conversations and history stay. Its
    tokens are erased: reconnecting asks for them again."""
    PlatformAccount.objects.filter(pk=account.pk).update(
        status=PlatformAccount.Status.DISCONNECTED,
        disconnected_at=timezone.now(),
        last_error="",
    )
    account.refresh_from_db()
    keys = list(account.credentials)
    account.credentials = {}
    account.save(update_fields=["credentials"])
    audit.record(
        actor=actor,
        action="account.disconnected",
        target=account,
        credential_keys=keys,
        extra={"history": "kept"},
    )
    transaction.on_commit(health.forget_banner)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def check_connection(*, actor: User | None, account: PlatformAccount) -> CheckResult:
    """Ask the platform who the account is, through the connector. A token the platform refuses
    marks the account as needing re-authorisation; one that works again clears that."""
    if not platform_available(account.platform):
        result = CheckResult(False, f"The {account.platform} connector is not installed.")
    elif account.status == PlatformAccount.Status.DISCONNECTED:
        result = CheckResult(False, "The account is disconnected: connect it first.")
    else:
        try:
            found = get_connector(account.platform).check_connection(account)
            result = CheckResult(True, f"Connected: {found}")
        except DeliveryError as exc:
            result = CheckResult(False, exc.reason)
            if exc.auth:
                services.mark_account_needs_reauth(account=account, reason=exc.reason)
        except Exception as exc:  # noqa: BLE001 - a connector bug is reported, not a 500
            log.exception("connection check of account %s crashed", account.pk)
            result = CheckResult(False, f"The check failed unexpectedly ({type(exc).__name__}).")
    update: dict[str, Any] = {
        "last_check_at": timezone.now(),
        "last_check_ok": result.ok,
        "last_check_result": result.message[:500],
    }
    if result.ok and account.status in (
        PlatformAccount.Status.NEEDS_REAUTH,
        PlatformAccount.Status.ERROR,
    ):
        update |= {"status": PlatformAccount.Status.CONNECTED, "last_error": ""}
        transaction.on_commit(lambda: resume_account(account))
    PlatformAccount.objects.filter(pk=account.pk).update(**update)
    for field, value in update.items():
        setattr(account, field, value)
    health.forget_banner()
    return result


def send_test_event(*, actor: User, account: PlatformAccount, text: str = "") -> WebhookEvent:
    """Hand a signed sample event to the webhook entrance, in-process: the same signature
    check, archive and ingest queue as a platform's delivery (without a network hop from the
    server to itself)."""
    text = text or f"Test event from Parley settings ({timezone.now():%H:%M:%S})"
    try:
        delivery = testevents.build(account, text=text)
    except testevents.TestEventUnavailable as exc:
        raise ActionRefused(str(exc)) from exc
    answer = webhooks.receive(
        delivery.platform,
        delivery.headers,
        delivery.body,
        account_id=delivery.account_id,
        remote_addr="127.0.0.1",  # the server itself
    )
    if answer.status != 200 or answer.archived_id is None:
        raise ActionRefused(f"The webhook endpoint answered {answer.status}: {answer.body[:200]}")
    # Marked as a test: not the account's last event (health). Its conversation is marked by
    # the intake from the test sender (services, Conversation.is_test).
    WebhookEvent.objects.filter(pk=answer.archived_id).update(is_test=True)
    audit.record(actor=actor, action="account.test_event_sent", target=account)
    return WebhookEvent.objects.get(pk=answer.archived_id)


# --- webhook archive --------------------------------------------------------------------------


def archive(
    *,
    account: PlatformAccount,
    outcome: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
) -> QuerySet[WebhookEvent]:
    """The account's archived deliveries, newest first (keyset by id)."""
    events = WebhookEvent.objects.filter(account=account).order_by("-received_at", "-id")
    if outcome:
        events = events.filter(outcome=outcome)
    if since:
        events = events.filter(received_at__gte=since)
    if until:
        events = events.filter(received_at__lt=until)
    if before_id:
        events = events.filter(id__lt=before_id)
    return events


def replay(*, actor: User, account: PlatformAccount, ids: list[int]) -> dict[int, str]:
    """Process archived deliveries of this account again (after a parser fix). Idempotent:
    what was already applied is not applied twice."""
    if len(ids) > MAX_REPLAY:
        raise ActionRefused(f"Replay at most {MAX_REPLAY} deliveries at a time.")
    own = list(
        WebhookEvent.objects.filter(account=account, pk__in=ids)
        .exclude(outcome=WebhookEvent.Outcome.REJECTED)
        .order_by("received_at", "id")
        .values_list("id", flat=True)
    )
    if not own:
        raise ActionRefused("Nothing to replay: rejected deliveries (bad signature) stay rejected.")
    outcomes = ingest.replay(own)
    audit.record(
        actor=actor,
        action="account.webhooks_replayed",
        target=account,
        extra={"deliveries": len(own)},
    )
    return outcomes


def failed_deliveries(*, before_id: int | None = None) -> QuerySet[WebhookEvent]:
    """Failed deliveries of every account — and of none: a batch for several accounts, an
    account Parley does not know, a body too broken to name one — newest first (keyset by id).
    The retention pass keeps them ``WEBHOOK_ARCHIVE_FAILED_DAYS``."""
    events = (
        WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.FAILED)
        .select_related("account")
        .order_by("-received_at", "-id")
    )
    if before_id:
        events = events.filter(id__lt=before_id)
    return events


def replay_failed(*, actor: User, ids: list[int]) -> dict[int, str]:
    """Process failed deliveries again, whichever accounts they name (after a parser fix)."""
    if len(ids) > MAX_REPLAY:
        raise ActionRefused(f"Replay at most {MAX_REPLAY} deliveries at a time.")
    failed = list(
        WebhookEvent.objects.filter(pk__in=ids, outcome=WebhookEvent.Outcome.FAILED)
        .order_by("received_at", "id")
        .values_list("id", flat=True)
    )
    if not failed:
        raise ActionRefused("Nothing to replay: select failed deliveries.")
    outcomes = ingest.replay(failed)
    audit.record(
        actor=actor,
        action="webhooks.failed_replayed",
        target_type="webhook",
        extra={"deliveries": len(failed)},
    )
    return outcomes


def webhook_setup(account: PlatformAccount, base_url: str) -> dict[str, Any]:
    """What the admin pastes into the platform's dashboard, and whether it took."""
    source = health.WEBHOOK_SOURCE.get(account.platform)
    if account.platform == Platform.SANDBOX:
        path = f"/webhooks/sandbox/{account.pk}/"
    else:
        path = f"/webhooks/{source}/"
    info: dict[str, Any] = {"callback_url": base_url.rstrip("/") + path, "verify_token": ""}
    if source == "meta":
        # The app-wide token is configuration the admin pastes; a per-account one is stored
        # with the credentials (write-only), so it is named but not shown.
        info["verify_token"] = settings.META_VERIFY_TOKEN or ""
        if not info["verify_token"]:
            info["verify_token_note"] = (
                "The verify token entered with this account's credentials (not shown)."
                if account.credentials.get("verify_token")
                else "No verify token is set: set META_VERIFY_TOKEN or enter one below."
            )
        info["how"] = (
            "In the Meta app dashboard, Webhooks → Page (and Instagram): paste the callback URL "
            "and the verify token, then subscribe to messages, message_echoes, "
            "message_deliveries, message_reads, message_reactions, messaging_postbacks."
        )
    elif source == "x":
        info["how"] = (
            "Register the callback URL as the app's webhook (Account Activity API); X checks it "
            "with a CRC signed with the consumer secret, then subscribe this account."
        )
    elif source == "linkedin":
        info["how"] = (
            "In the LinkedIn developer portal, Webhooks: add the callback URL; LinkedIn validates "
            "it with a challenge signed with the client secret. LinkedIn sends comment and "
            "mention notifications for Company Page posts — no direct messages."
        )
    else:
        info["how"] = (
            "The sandbox signs each POST with the account's secret in X-Sandbox-Signature "
            "(sha256=HMAC-SHA256 hex of the raw body)."
        )
    handshake = health.handshake_for(account)
    if handshake is not None:
        info["seen_at"] = handshake.last_seen_at
        info["seen"] = f"Handshake seen {handshake.count} time(s), last at"
    else:
        first = health.first_signed_delivery(account) if source is None else None
        info["seen_at"] = first.received_at if first else None
        info["seen"] = "First signed delivery at" if first else ""
    return info
