"""The contacts tests' small helpers: a customer writing on an account, and an API client."""

from __future__ import annotations

import uuid

from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from connectors.base import MessageReceived, Person
from inbox import services
from inbox.models import Message
from tests.helpers import committed


def writes(
    account, sender: str, text: str = "hello", *, name: str = "", username: str = ""
) -> Message:
    """A customer's message through the inbound service, committed (listeners ran)."""
    event = MessageReceived(
        platform=account.platform,
        account_external_id=account.external_id,
        timestamp=timezone.now(),
        external_id=f"m-{uuid.uuid4().hex}",
        sender=Person(platform_user_id=sender, name=name, username=username),
        text=text,
    )
    with committed():
        return services.receive_message(account=account, event=event)


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
