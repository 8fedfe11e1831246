from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from neuroclinic.operations import actions
from neuroclinic.operations.backup.archive import RestoreError, restore_backup
from neuroclinic.operations.backup.crypto import BackupDecryptError
from neuroclinic.operations.backup.database import DatabaseBackupError


class Command(BaseCommand):
    help = (
        "Restore a backup into the empty database DATABASE_URL names (and empty file folders), "
        "then compare row counts and chain heads with its manifest and verify the audit and "
        "ledger chains. Exits non-zero on any difference (docs/backup.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", help="the backup file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            result = restore_backup(path, passphrase=settings.BACKUP_KEY)
        except (RestoreError, BackupDecryptError, DatabaseBackupError) as exc:
            raise CommandError(f"Restore refused or failed: {exc}") from None
        manifest = result.manifest
        if result.problems:
            for problem in result.problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(
                f"The restored database does NOT match its backup ({len(result.problems)} "
                "problem(s) above). Do not use it; keep it for investigation."
            )
        if result.migrated:
            self.stdout.write(
                f"Applied {len(result.migrated)} migration(s) newer than the backup."
            )
        actions.record_restore(
            file_name=path.name,
            backup_created_at=manifest["created_at"],
            migrated=len(result.migrated),
        )
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} in {result.seconds:.1f} s: "
            f"{rows:,} rows in {len(manifest['tables'])} tables match the manifest, chain "
            f"heads match, {manifest['files']['count']} file(s) and "
            f"{manifest['checkpoints']['count']} checkpoint file(s) restored; audit and "
            "ledger chains verify."
        )
