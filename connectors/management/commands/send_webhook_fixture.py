"""POST a webhook fixture, signed the platform's way, to a running Parley (manual testing)."""

from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.testevents import ENDPOINTS


class Command(BaseCommand):
    help = "POST a webhook body (a fixture file) to SERVER, signed as the platform signs it."

    def add_arguments(self, parser):
        parser.add_argument("platform", choices=sorted(ENDPOINTS))
        parser.add_argument("server", help="e.g. http://127.0.0.1:8000")
        parser.add_argument("fixture", type=Path)
        parser.add_argument("--secret", default="", help="signing secret (default: the app's)")

    def handle(self, *args, **options):
        endpoint = ENDPOINTS[options["platform"]]
        secret = options["secret"] or getattr(settings, endpoint.secret_setting)
        if not secret:
            raise CommandError(f"No secret: set {endpoint.secret_setting} or pass --secret.")
        # The file's exact bytes are signed and sent, as the platforms do.
        body = options["fixture"].read_bytes()
        response = requests.post(
            options["server"].rstrip("/") + endpoint.path,
            data=body,
            headers={**endpoint.sign(secret, body), "Content-Type": "application/json"},
            timeout=10,
        )
        self.stdout.write(f"{response.status_code} {response.text[:200]}")
        if response.status_code != 200:
            raise CommandError(f"the server answered {response.status_code}")
