"""The nightly backup job: writes to BACKUP_DIR, keeps BACKUP_KEEP, says so when it is not configured."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from neuroclinic.audit.models import AuditEvent
from neuroclinic.operations.models import BackupRecord
from neuroclinic.operations.tasks import scheduled_backup
from neuroclinic.operations.tests.live import LiveDatabase

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def restorable(tmp_path: Path) -> Iterator[None]:
    live = LiveDatabase.start(tmp_path)
    yield
    live.stop()


def test_the_nightly_job_writes_a_backup_and_keeps_the_newest(
    restorable: None, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [folder / f"neuroclinic-2026010{d}T090000Z.ncbackup" for d in (1, 2, 3)]
    for path in old:
        path.write_bytes(b"an older backup")
    settings.BACKUP_DIR = str(folder)
    settings.BACKUP_KEY = "nightly job test passphrase"
    settings.BACKUP_KEEP = 2
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.VAR_DIR = tmp_path / "var"

    result = scheduled_backup.call()

    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [old[2].name, result["file"]]
    assert result["removed"] == [old[1].name, old[0].name]
    record = BackupRecord.objects.get()
    assert record.ok
    assert record.size_bytes == (folder / result["file"]).stat().st_size
    assert AuditEvent.objects.filter(action=AuditEvent.Action.BACKUP_MADE).count() == 1


def test_without_a_folder_or_key_the_job_does_nothing_and_says_so(
    restorable: None, settings: Settings
) -> None:
    settings.BACKUP_DIR = ""

    assert scheduled_backup.call() == {
        "skipped": "BACKUP_DIR and BACKUP_KEY are not both set"
    }
    assert not BackupRecord.objects.exists()
