from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.models import LedgerCheck, Registrant
from neuroclinic.ledger.verify import verify_registrant


class Command(BaseCommand):
    help = (
        "Controlled-substance ledger tools. `ledger verify` walks every registrant's hash "
        "chain, re-adds every balance, and exits non-zero naming the first bad entry. "
        "With --record it stores the result (shown on the ledger pages) and emails the "
        "custodians: run that nightly."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser(
            "verify", help="check every entry's hash, link and balances"
        )
        verify.add_argument(
            "--record",
            action="store_true",
            help="store the result as a ledger check and email the custodians (nightly)",
        )
        verify.add_argument(
            "--registrant", help="only this DEA registration number", default=None
        )

    def handle(self, *args: Any, **options: Any) -> None:
        registrants = Registrant.objects.select_related(
            "organization", "location"
        ).order_by("id")
        if options["registrant"]:
            registrants = registrants.filter(dea_number=options["registrant"].upper())
            if not registrants.exists():
                raise CommandError(
                    f"No registrant with DEA number {options['registrant']}."
                )
        broken = []
        for registrant in registrants:
            if options["record"]:
                _, report = run_check(
                    registrant, source=LedgerCheck.Source.NIGHTLY, notify=True
                )
            else:
                report = verify_registrant(registrant)
            self.stdout.write(report.describe())
            if not report.ok:
                broken.append(report)
        if broken:
            first = broken[0]
            where = (
                f"entry #{first.first_bad_seq} ({first.first_bad_entry})"
                if first.first_bad_seq is not None
                else "its balances"
            )
            raise CommandError(
                f"Ledger broken: {first.registrant} at {where}: {first.problem}."
            )
        self.stdout.write(f"Ledger intact: {registrants.count()} registrant chain(s).")
