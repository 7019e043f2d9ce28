from django.core.management.base import BaseCommand

from inbox.polling import poll_accounts


class Command(BaseCommand):
    help = "Run one polling pass now (what Celery beat runs on its schedule)."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="only this platform account id")

    def handle(self, *args, **options):
        outcomes = poll_accounts(account_id=options["account"])
        if not outcomes:
            self.stdout.write("No account polls.")
        for account_id, outcome in outcomes.items():
            self.stdout.write(f"account {account_id}: {outcome}")
