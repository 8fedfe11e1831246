from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.audit.verify import verify_audit_chain


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` walks the hash chain and exits non-zero at the first broken link."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="check every event's hash and link")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_audit_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event #{report.first_bad_seq}: {report.problem}. "
                f"{report.checked} events before it are intact."
            )
        self.stdout.write(
            f"Audit chain intact: {report.checked} events. Head hash {report.head_hash}"
        )
