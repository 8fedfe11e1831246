from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from neuroclinic.clinics.demo import DEMO_STAFF, load_demo


class Command(BaseCommand):
    help = "Load the demo clinic: synthetic staff (one per role), locations, rooms, devices and patients."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--patients",
            type=int,
            default=220,
            help="how many synthetic patients (default 220)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 0:
            raise CommandError("--patients must be zero or more.")
        try:
            organization = load_demo(patient_count=options["patients"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        call_command("optimize", stdout=self.stdout)
        self.stdout.write(
            f"Loaded {organization.name}: {options['patients']} synthetic patients; "
            f"staff {', '.join(DEMO_STAFF)} (see README for passwords and two-factor codes)."
        )
