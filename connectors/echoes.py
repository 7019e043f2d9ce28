"""Recognising the account's own sends when the platform echoes them back without our reference.

X and LinkedIn hand back no client reference with the copy of a message Parley sent. Once the
send has answered, the copy is matched by its platform id; a copy that beats the send's answer
(a fast webhook) is matched to the message still being sent in the same thread with the same
text — otherwise it would become a second message, and the send's own id would then collide.
A message waiting for a retry (its send timed out, but the platform had taken it) is matched
too: it becomes sent, so the retry never sends it twice.
"""

from __future__ import annotations

import dataclasses

from connectors.base import MessageEchoed
from inbox import services
from inbox.models import Message, PlatformAccount


def record_echo_of_own_send(*, account: PlatformAccount, event: MessageEchoed) -> Message:
    plain = MessageEchoed(
        **{f.name: getattr(event, f.name) for f in dataclasses.fields(MessageEchoed)}
    )
    if event.thread_external_id and not event.client_ref:
        exists = Message.objects.filter(account=account, external_id=event.external_id).exists()
        in_flight = (
            None
            if exists
            else Message.objects.filter(
                account=account,
                direction=Message.Direction.OUTBOUND,
                external_id__isnull=True,
                client_ref__isnull=False,
                status__in=[Message.Status.QUEUED, Message.Status.SENDING],
                conversation__external_thread_id=event.thread_external_id,
                text=event.text,
            )
            .order_by("id")
            .first()
        )
        if in_flight is not None:
            plain = dataclasses.replace(plain, client_ref=in_flight.client_ref)
    message = services.record_echo(account=account, event=plain)
    if plain.client_ref and message.error:
        # "Retrying: …" no longer applies: the platform has the message.
        Message.objects.filter(pk=message.pk, status=Message.Status.SENT).update(error="")
    return message
