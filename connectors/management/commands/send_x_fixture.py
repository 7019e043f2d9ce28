"""POST an X webhook fixture, signed, to a running Parley (manual testing)."""

from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors import webhooks
from connectors.x.connector import SIGNATURE_HEADER


class Command(BaseCommand):
    help = "POST an X webhook body (a fixture file) signed with the consumer secret to SERVER."

    def add_arguments(self, parser):
        parser.add_argument("server", help="e.g. http://127.0.0.1:8000")
        parser.add_argument("fixture", type=Path)
        parser.add_argument(
            "--secret", default="", help="consumer secret (default X_CONSUMER_SECRET)"
        )

    def handle(self, *args, **options):
        secret = options["secret"] or settings.X_CONSUMER_SECRET
        if not secret:
            raise CommandError("No secret: set X_CONSUMER_SECRET or pass --secret.")
        # The file's exact bytes are signed and sent, as X does (base64 HMAC-SHA256).
        body = options["fixture"].read_bytes()
        signature = "sha256=" + webhooks.hmac_sha256(secret, body, encoding="base64")
        response = requests.post(
            options["server"].rstrip("/") + "/webhooks/x/",
            data=body,
            headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
            timeout=10,
        )
        self.stdout.write(f"{response.status_code} {response.text[:200]}")
        if response.status_code != 200:
            raise CommandError(f"the server answered {response.status_code}")
