from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.clinics.models import Organization
from neuroclinic.outcomes.actions.summaries import refresh_all


class Command(BaseCommand):
    help = (
        "Rebuild the stored episode summaries now (the daily job does it at 07:30 "
        "UTC), e.g. after the medical director changed the outcome definitions. "
        "Derived figures only: nothing clinical is written."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--organization",
            type=int,
            default=None,
            help="one clinic's id (default: every clinic)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.order_by("id")
        if options["organization"] is not None:
            organizations = organizations.filter(pk=options["organization"])
            if not organizations.exists():
                raise CommandError("No clinic with that id.")
        for organization in organizations:
            rows = refresh_all(organization)
            self.stdout.write(f"{organization.pk}: {rows} summary rows rebuilt")
