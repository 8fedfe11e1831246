import zoneinfo
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from neuroclinic.clinics.demo import (
    DEMO_STAFF,
    DEMO_TIME_ZONE,
    load_demo,
    patient_count,
)
from neuroclinic.lib import messaging

CONSOLE_EMAIL = "django.core.mail.backends.console.EmailBackend"
CONSOLE_SMS = "neuroclinic.lib.messaging.ConsoleSmsBackend"


def add_demo_arguments(parser: ArgumentParser) -> None:
    """The demo's options, which `prepare --demo` passes on."""
    parser.add_argument(
        "--patients",
        type=int,
        default=220,
        help="how many synthetic patients (default 220)",
    )
    parser.add_argument(
        "--time-zone",
        default=DEMO_TIME_ZONE,
        help=f"the IANA time zone of both demo sites (default {DEMO_TIME_ZONE})",
    )


class Command(BaseCommand):
    help = "Load the demo clinic: synthetic staff (one per role), locations, rooms, devices and patients."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_demo_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 0:
            raise CommandError("--patients must be zero or more.")
        if options["time_zone"] not in zoneinfo.available_timezones():
            raise CommandError(
                f"--time-zone {options['time_zone']!r} is not a time zone name such as "
                "America/Chicago."
            )
        # On the console the demo's reminders and links would bury the last lines of
        # `make run` (issue 18): keep them in memory and say how many there were.
        quiet = (
            settings.MAILERS["default"]["BACKEND"] == CONSOLE_EMAIL
            and getattr(settings, "SMS_BACKEND", CONSOLE_SMS) == CONSOLE_SMS
        )
        overrides: dict[str, Any] = {}
        if quiet:
            overrides = {
                "MAILERS": {
                    "default": {
                        "BACKEND": "django.core.mail.backends.locmem.EmailBackend"
                    }
                },
                "SMS_BACKEND": "neuroclinic.lib.messaging.LocmemSmsBackend",
            }
        if quiet:
            mail.outbox = []
        sms_before = len(messaging.outbox)
        try:
            with override_settings(**overrides):
                organization = load_demo(
                    patient_count=options["patients"], time_zone=options["time_zone"]
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if quiet:
            emails, texts = len(mail.outbox), len(messaging.outbox) - sms_before
            del messaging.outbox[sms_before:]
            mail.outbox = []
            self.stdout.write(
                f"The demo wrote {emails} emails and {texts} text messages to patients "
                "and staff; on the console backends they are counted, not printed."
            )
        call_command("optimize", stdout=self.stdout)
        self.stdout.write(
            f"Loaded {organization.name}: "
            f"{patient_count(organization)} synthetic "
            "patients; "
            f"staff {', '.join(DEMO_STAFF)} (see README for passwords and two-factor codes)."
        )
