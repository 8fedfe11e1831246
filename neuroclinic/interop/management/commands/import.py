"""`neuroclinic import fhir FILE... --as USERNAME`: import FHIR transaction Bundles.

Each file is all or nothing, as at POST /fhir/: a file with any problem writes
nothing and its problems are listed; the others still import. Exit status 1 when
any file was refused.
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
    help = "Import FHIR Bundles (Patient, Condition, QuestionnaireResponse), each file all or nothing."

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
                counts[item.resource_type] = counts.get(item.resource_type, 0) + 1
            summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
            self.stdout.write(f"{path}: imported {summary}.")
        if refused:
            raise CommandError(f"{refused} file(s) refused.")
