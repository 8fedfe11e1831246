"""`neuroclinic import fhir FILE... --as USERNAME`: import FHIR Bundles.

As at POST /fhir/: a transaction Bundle is all or nothing (a file with any problem
writes nothing and its problems are listed); a batch or collection Bundle imports
each entry on its own and lists the entries that failed. Each file reports how many
entries were created, matched (already recorded), skipped (not kept) and failed.
Exit status 1 when any file was refused or any entry failed.
"""

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.accounts.models import User
from neuroclinic.interop.actions.imports import ImportRefused, import_bundle
from neuroclinic.interop.server.transaction import IMPORT_CAPABILITIES


class Command(BaseCommand):
    help = "Import FHIR Bundles: transactions all or nothing, batches entry by entry."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="format", required=True)
        fhir = sub.add_parser("fhir", help="FHIR R4 JSON Bundles")
        fhir.add_argument("files", nargs="+", type=Path)
        fhir.add_argument(
            "--as",
            dest="username",
            required=True,
            help="the member of staff the import is recorded as",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None or user.organization is None:
            raise CommandError(f"No active clinic user named {options['username']!r}.")
        if not all(user.can(c) for c in IMPORT_CAPABILITIES):
            raise CommandError(
                f"{user.username} may not register patients, edit diagnoses and record questionnaires."
            )
        refused = 0
        for path in options["files"]:
            try:
                bundle = json.loads(path.read_text(encoding="utf-8"))
            except OSError as exc:
                self.stderr.write(f"{path}: cannot read ({exc.strerror}).")
                refused += 1
                continue
            except (ValueError, UnicodeDecodeError):
                self.stderr.write(f"{path}: not JSON.")
                refused += 1
                continue
            try:
                imported = import_bundle(
                    bundle, organization=user.organization, by=user
                )
            except ImportRefused as exc:
                refused += 1
                self.stderr.write(f"{path}: refused, nothing written:")
                for problem in exc.problems:
                    self.stderr.write(f"  {problem.expression}: {problem.message}")
                continue
            counts: dict[str, int] = {}
            for item in imported:
                counts[item.outcome] = counts.get(item.outcome, 0) + 1
            summary = ", ".join(
                f"{counts.get(o, 0)} {o}"
                for o in ("created", "matched", "skipped", "failed")
            )
            self.stdout.write(f"{path}: {summary}.")
            for item in imported:
                if item.outcome == "failed":
                    for problem in item.problems:
                        self.stderr.write(f"  {problem.expression}: {problem.message}")
                elif item.outcome == "skipped" and options["verbosity"] > 1:
                    self.stdout.write(f"  Bundle.entry[{item.index}]: {item.message}")
            if counts.get("failed"):
                refused += 1
        if refused:
            raise CommandError(f"{refused} file(s) refused or with failed entries.")
