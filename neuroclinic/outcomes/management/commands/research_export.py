from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.outcomes import export


class Command(BaseCommand):
    help = (
        "Write the clinic's de-identified research data set (HIPAA Safe Harbor; "
        "docs/outcomes.md) as CSV or Parquet, with its data dictionary, into a "
        "directory. Run as a medical director (--by); the export is audited."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("directory", help="where to write the files")
        parser.add_argument(
            "--by", required=True, help="username of the medical director"
        )
        parser.add_argument("--format", choices=["csv", "parquet"], default="csv")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["by"], is_active=True).first()
        if user is None or user.organization_id is None:
            raise CommandError("No active staff user by that name.")
        if not user.can(Capability.RESEARCH_EXPORT):
            raise CommandError("That user may not export research data.")
        tables = export.build_tables(user.organization_id)
        written = export.write(tables, Path(options["directory"]), options["format"])
        with transaction.atomic():
            record(
                AuditEvent.Action.RESEARCH_EXPORTED,
                actor=user,
                format=options["format"],
                rows={name: len(rows) for name, rows in tables.items()},
                source="command",
            )
        for path in written:
            self.stdout.write(str(path))
