from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from neuroclinic.operations import actions
from neuroclinic.operations.backup.archive import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Write one encrypted file holding the database, uploaded files and chain checkpoints, "
        "with a manifest of row counts and chain heads. The key is derived from BACKUP_KEY. "
        "Written under a temporary name and moved into place when whole (docs/backup.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--output", required=True, help="the backup file to write")
        parser.add_argument(
            "--work-dir",
            default=None,
            help="where the database snapshot waits while it is encrypted (default: var/tmp)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        started = timezone.now()
        try:
            result = make_backup(
                output,
                passphrase=settings.BACKUP_KEY,
                workdir=Path(options["work_dir"]) if options["work_dir"] else None,
            )
        except BackupError as exc:
            actions.record_backup(
                started_at=started,
                file_name=output.name,
                size_bytes=0,
                vendor=connection.vendor,
                problem=str(exc),
                by=None,
            )
            raise CommandError(str(exc)) from None
        actions.record_backup(
            started_at=started,
            file_name=output.name,
            size_bytes=result.size_bytes,
            vendor=connection.vendor,
            problem="",
            by=None,
        )
        manifest = result.manifest
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Backup written to {result.path}: {result.size_bytes:,} bytes in "
            f"{result.seconds:.1f} s; {manifest['database']['vendor']} database "
            f"({rows:,} rows in {len(manifest['tables'])} tables), "
            f"{manifest['files']['count']} uploaded file(s), "
            f"{manifest['checkpoints']['count']} checkpoint file(s)."
        )
