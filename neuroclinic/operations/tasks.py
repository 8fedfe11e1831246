"""Operations' own periodic work (schedule in schedule.py), and the helper other apps enqueue with."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.tasks import Task, TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from neuroclinic.operations.models import PeriodicRun, WorkerHeartbeat

BACKUP_SUFFIX = ".ncbackup"


def enqueue_on_commit(task_: Task[Any, Any], *args: Any, **kwargs: Any) -> None:
    """Enqueue after the current transaction commits: a rolled-back action queues nothing."""
    transaction.on_commit(lambda: task_.enqueue(*args, **kwargs))


@task(queue_name="bulk")
def refresh_planner_statistics() -> str:
    """ANALYZE (and PRAGMA optimize on SQLite), daily and after large imports."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")
    return connection.vendor


@task()
def write_chain_checkpoint() -> str:
    """Sign every chain head into CHECKPOINT_DIR (neuroclinic/operations/checkpoints.py)."""
    from neuroclinic.operations.checkpoints import write_checkpoint

    return write_checkpoint().name


class BackupFailed(Exception):
    pass


@task(queue_name="bulk")
def scheduled_backup() -> dict[str, Any]:
    """Write tonight's encrypted backup to BACKUP_DIR; keep the newest BACKUP_KEEP.

    Older backups are removed only after the new one is whole on disk. Without
    BACKUP_DIR and BACKUP_KEY the job does nothing and says so (the operations
    page shows that no backups are configured).
    """
    from neuroclinic.operations import actions
    from neuroclinic.operations.backup.archive import BackupError, make_backup

    if not settings.BACKUP_DIR or not settings.BACKUP_KEY:
        return {"skipped": "BACKUP_DIR and BACKUP_KEY are not both set"}
    folder = Path(settings.BACKUP_DIR)
    started = timezone.now()
    output = folder / f"neuroclinic-{started:%Y%m%dT%H%M%SZ}{BACKUP_SUFFIX}"
    try:
        result = make_backup(output, passphrase=settings.BACKUP_KEY)
    except BackupError as exc:
        actions.record_backup(
            started_at=started,
            file_name=output.name,
            size_bytes=0,
            vendor=connection.vendor,
            problem=str(exc),
            by=None,
        )
        raise BackupFailed(str(exc)) from None
    actions.record_backup(
        started_at=started,
        file_name=output.name,
        size_bytes=result.size_bytes,
        vendor=connection.vendor,
        problem="",
        by=None,
    )
    kept = sorted(folder.glob(f"neuroclinic-*{BACKUP_SUFFIX}"), reverse=True)
    removed = []
    for old in kept[max(1, settings.BACKUP_KEEP) :]:
        old.unlink(missing_ok=True)
        removed.append(old.name)
    return {"file": output.name, "bytes": result.size_bytes, "removed": removed}


@task(queue_name="bulk")
def prune_finished_work() -> dict[str, int]:
    """Forget old task results, claimed periods and dead workers' heartbeats."""
    now = timezone.now()
    succeeded, _ = DBTaskResult.objects.filter(
        status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - timedelta(days=30)
    ).delete()
    failed, _ = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED, finished_at__lt=now - timedelta(days=90)
    ).delete()
    periods, _ = PeriodicRun.objects.filter(
        period_start__lt=now - timedelta(days=30)
    ).delete()
    workers, _ = WorkerHeartbeat.objects.filter(
        seen_at__lt=now - timedelta(days=1)
    ).delete()
    return {
        "succeeded": succeeded,
        "failed": failed,
        "periods": periods,
        "workers": workers,
    }
