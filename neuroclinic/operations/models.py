"""What the workers and backups leave behind: who claimed which period, who is alive, which backups ran.

Task results themselves are django-tasks-db's `DBTaskResult` rows; these tables
hold only what that library does not.
"""

from django.db import models


class PeriodicRun(models.Model):
    """One period of one periodic job, claimed by the worker that enqueued it.

    The unique (job, period_start) row is inserted in the same transaction as the
    task it enqueues, so however many workers tick at once, one period runs once.
    """

    job = models.CharField(max_length=64)
    period_start = models.DateTimeField()
    claimed_at = models.DateTimeField()
    worker_id = models.CharField(max_length=64)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-period_start", "job", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "period_start"], name="periodic_run_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.job} for {self.period_start:%Y-%m-%d %H:%M} UTC"


class WorkerHeartbeat(models.Model):
    """A running worker says it is alive every few seconds; a silent one's task is retried."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-seen_at", "id"]

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.hostname}"


class BackupRecord(models.Model):
    """A backup made by `neuroclinic backup` or the nightly job: where, how big, and whether it worked."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    file_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    database_vendor = models.CharField(max_length=20)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"backup {self.file_name} ({'ok' if self.ok else 'failed'})"
