import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record


class Command(BaseCommand):
    help = "Print a user's current two-factor code (for the demo clinic and for support). Audited."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        device = Authenticator.objects.filter(user=user, confirmed=True).first()
        if device is None:
            raise CommandError(
                f"{user.username!r} has not set up two-factor yet; they enrol at their next sign-in."
            )
        code = device.current_code()
        with transaction.atomic():
            record(
                AuditEvent.Action.TOTP_SHOWN,
                actor=None,
                actor_username="(command line)",
                subject=user,
            )
        seconds_left = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(code)
        self.stderr.write(f"valid for about {seconds_left} more seconds")
