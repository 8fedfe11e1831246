import getpass
import secrets
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from neuroclinic.operations import actions


class Command(BaseCommand):
    help = (
        "Create the clinic (organization) and its first clinic admin on a new installation. "
        "The admin sets up two-factor sign-in at first sign-in, then adds staff on the Staff page."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--organization", required=True, help="the clinic's name")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        generated = not sys.stdin.isatty()
        if generated:
            password = secrets.token_urlsafe(15)
        else:
            password = getpass.getpass("Password for the new admin: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("The two passwords differ; nothing was created.")
        try:
            user = actions.set_up_clinic(
                organization_name=options["organization"],
                username=options["username"],
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                password=password,
            )
        except actions.OperationsError as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        assert user.organization is not None
        self.stdout.write(
            f"Created {user.organization.name} and its clinic admin {user.username}. "
            "At first sign-in they enrol an authenticator app (two-factor is required)."
        )
        if generated:
            self.stdout.write(
                f"Password (shown once; change it after signing in): {password}"
            )
