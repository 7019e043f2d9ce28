from django.core.management.base import BaseCommand, CommandError

from connectors.registry import platforms
from inbox.accounts import connect_account


class Command(BaseCommand):
    help = "Create (or update) a platform account; prints its id as the last line."

    def add_arguments(self, parser):
        parser.add_argument("platform", choices=platforms())
        parser.add_argument("--external-id", required=True, help="the platform's id for it")
        parser.add_argument("--name", default="", help="display name (default: the external id)")
        parser.add_argument(
            "--credential", action="append", default=[], metavar="KEY=VALUE", dest="credentials"
        )
        parser.add_argument("--team", action="append", default=[], dest="teams")

    def handle(self, *args, **options):
        pairs = {}
        for item in options["credentials"]:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CommandError(f"--credential takes KEY=VALUE, got {key!r}")
            pairs[key] = value
        account, created = connect_account(
            platform=options["platform"],
            external_id=options["external_id"],
            name=options["name"] or options["external_id"],
            settings=pairs,
            teams=options["teams"],
        )
        verb = "Connected" if created else "Updated"
        self.stdout.write(f"{verb} {account} (keys: {', '.join(sorted(pairs)) or 'none'})")
        self.stdout.write(str(account.pk))
