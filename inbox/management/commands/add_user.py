from django.core.management.base import BaseCommand, CommandError

from inbox.accounts import create_or_update_user
from inbox.models import User


class Command(BaseCommand):
    help = "Create (or update) a user with a role and teams."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=User.Role.values, required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--team", action="append", default=[], dest="teams")
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help="full name shown to colleagues")

    def handle(self, *args, **options):
        try:
            user, created = create_or_update_user(
                username=options["username"],
                role=options["role"],
                password=options["password"],
                teams=options["teams"],
                email=options["email"],
                full_name=options["name"],
            )
        except ValueError as exc:
            raise CommandError(str(exc))
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {user.get_role_display().lower()} {user.username}")
        self.stdout.write(str(user.pk))
