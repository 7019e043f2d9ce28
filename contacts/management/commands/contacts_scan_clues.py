"""Find merge-suggestion clues in customers' messages received before the clues listener
existed (or after a change of its patterns). Safe to run again: clues are unique per message."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from contacts import clues
from inbox.models import Message

BATCH = 2000


class Command(BaseCommand):
    help = "Store merge-suggestion clues (emails, phones, websites, links) of past messages."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--after", type=int, default=0, help="start after this message id")

    def handle(self, *args, after: int = 0, **options) -> None:
        found = 0
        messages = Message.objects.filter(
            sender_kind=Message.SenderKind.CONTACT, is_deleted=False
        ).only("pk", "conversation_id", "text")
        while True:
            batch = list(messages.filter(pk__gt=after).order_by("pk")[:BATCH])
            if not batch:
                break
            found += clues.store(batch)
            after = batch[-1].pk
        self.stdout.write(f"{found} clues stored (last message {after})")
