"""POST a Meta webhook fixture, signed, to a running Parley (manual testing)."""

from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.meta.webhook import SIGNATURE_HEADER, sign


class Command(BaseCommand):
    help = "POST a Meta webhook body (a fixture file) signed with the app secret to SERVER."

    def add_arguments(self, parser):
        parser.add_argument("server", help="e.g. http://127.0.0.1:8000")
        parser.add_argument("fixture", type=Path)
        parser.add_argument("--secret", default="", help="signing secret (default META_APP_SECRET)")

    def handle(self, *args, **options):
        secret = options["secret"] or settings.META_APP_SECRET
        if not secret:
            raise CommandError("No secret: set META_APP_SECRET or pass --secret.")
        # The file's exact bytes are signed and sent, as Meta does.
        body = options["fixture"].read_bytes()
        response = requests.post(
            options["server"].rstrip("/") + "/webhooks/meta/",
            data=body,
            headers={SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"},
            timeout=10,
        )
        self.stdout.write(f"{response.status_code} {response.text[:200]}")
        if response.status_code != 200:
            raise CommandError(f"the server answered {response.status_code}")
