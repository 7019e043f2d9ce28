"""Fixtures of the notification tests: a late conversation for the SLA pass, and a real local
SMTP server (aiosmtpd) with Django's SMTP backend pointed at it."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from sla import timers
from sla.models import SlaPolicy
from tests.helpers import committed, customer_writes

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def late_conversation(account, monkeypatch):
    """A customer writes at T0 under a one-hour first-response policy (the clock is the test's:
    the SLA pass warns at 80 % and breaches at 100 %)."""
    SlaPolicy.objects.create(name="Standard", first_response_seconds=3600)
    monkeypatch.setattr(timezone, "now", lambda: T0)
    return customer_writes(account, "cust-late", "m-late")


def sla_pass(minutes: int) -> None:
    with committed():
        timers.check_timers(now=T0 + timedelta(minutes=minutes))


class Mailbox:
    """What the SMTP server received: each message parsed."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        message.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on 127.0.0.1 for this test; Django sends through it as configured from
    the environment in production (EMAIL_HOST, EMAIL_PORT)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.NOTIFICATION_EMAIL_ENABLED = True
    settings.NOTIFICATION_DIGEST_MINUTES = 10
    settings.PUBLIC_BASE_URL = "https://inbox.example.com"
    mailbox.controller = controller
    yield mailbox
    mailbox.controller.stop()  # a test may have restarted it
