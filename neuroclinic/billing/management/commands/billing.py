from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.billing.verify import verify_totals
from neuroclinic.clinics.models import Organization


class Command(BaseCommand):
    help = (
        "Billing tools. `billing verify` re-adds every invoice's lines, checks each line's "
        "units x price, that no invoice is paid beyond its total and that every refund is "
        "against a payment; it exits non-zero naming the invoices (numbers only)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="re-add every invoice and balance")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        for organization in Organization.objects.order_by("id"):
            found = verify_totals(organization.pk)
            self.stdout.write(
                f"{organization.name}: {'ok' if not found else f'{len(found)} problem(s)'}"
            )
            problems.extend(found)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} billing total(s) do not add up.")
