"""Recompute the report metric rows from the messages and status events, e.g. after an
upgrade that changed a definition, or for data imported without the services."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from inbox.models import Conversation
from reports import metrics


class Command(BaseCommand):
    help = "Rebuild report metrics (openings, reply waits, hourly volume) of every conversation."

    def add_arguments(self, parser):
        parser.add_argument("--conversation", type=int, help="only this conversation")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, conversation: int | None, batch: int, **options):
        ids = Conversation.objects.order_by("pk").values_list("pk", flat=True)
        if conversation is not None:
            ids = ids.filter(pk=conversation)
        done = 0
        last = 0
        while True:
            chunk = list(ids.filter(pk__gt=last)[:batch])
            if not chunk:
                break
            for pk in chunk:
                metrics.rebuild(pk)
            done += len(chunk)
            last = chunk[-1]
            self.stdout.write(f"{done} conversations rebuilt")
        self.stdout.write(self.style.SUCCESS(f"done: {done} conversations"))
