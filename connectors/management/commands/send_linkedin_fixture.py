"""POST a LinkedIn notification fixture, signed, to a running Parley (manual testing)."""

from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors import webhooks
from connectors.linkedin.connector import SIGNATURE_HEADER, SIGNATURE_PREFIX


class Command(BaseCommand):
    help = "POST a LinkedIn webhook body (a fixture file) signed with the client secret to SERVER."

    def add_arguments(self, parser):
        parser.add_argument("server", help="e.g. http://127.0.0.1:8000")
        parser.add_argument("fixture", type=Path)
        parser.add_argument(
            "--secret", default="", help="client secret (default LINKEDIN_CLIENT_SECRET)"
        )

    def handle(self, *args, **options):
        secret = options["secret"] or settings.LINKEDIN_CLIENT_SECRET
        if not secret:
            raise CommandError("No secret: set LINKEDIN_CLIENT_SECRET or pass --secret.")
        body = options["fixture"].read_bytes()
        # The documented reading: hex HMAC-SHA256 over "hmacsha256=" + the exact body.
        signature = webhooks.hmac_sha256(secret, SIGNATURE_PREFIX.encode() + body)
        response = requests.post(
            options["server"].rstrip("/") + "/webhooks/linkedin/",
            data=body,
            headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
            timeout=10,
        )
        self.stdout.write(f"{response.status_code} {response.text[:200]}")
        if response.status_code != 200:
            raise CommandError(f"the server answered {response.status_code}")
