"""The operations page: is background work running, what failed, when was the last backup.

Installation-wide (workers and queues serve every organization on the
server), so it shows task names, error classes and times, never a task's
arguments, return value or traceback: those can name patients. The full
traceback is on the server: `neuroclinic shell` or the worker's log.
"""

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_tasks_db.models import DBTaskResult

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.operations import actions
from neuroclinic.operations.models import BackupRecord, PeriodicRun, WorkerHeartbeat
from neuroclinic.operations.schedule import PERIODIC_JOBS
from neuroclinic.operations.worker import STALE_AFTER

BACKUP_OVERDUE = timedelta(hours=36)


def _short(path: str) -> str:
    """`neuroclinic.measures.tasks.escalate_safety_alerts` -> `measures: escalate_safety_alerts`."""
    parts = path.split(".")
    return f"{parts[1]}: {parts[-1]}" if len(parts) >= 4 else path


@require_capability(Capability.MANAGE_OPERATIONS)
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    workers = list(WorkerHeartbeat.objects.all()[:20])
    for worker in workers:
        worker.alive = worker.seen_at >= now - STALE_AFTER  # type: ignore[attr-defined]
    newest: dict[str, PeriodicRun] = {}
    for (
        job
    ) in PERIODIC_JOBS:  # one indexed look per job (the table holds a month of minutes)
        run = PeriodicRun.objects.filter(job=job.name).order_by("-period_start").first()
        if run is not None:
            newest[job.name] = run
    task_ids = [run.task_result_id for run in newest.values() if run.task_result_id]
    statuses = dict(
        DBTaskResult.objects.filter(id__in=task_ids).values_list("id", "status")
    )
    jobs = [
        {
            "name": job.name,
            "every": job.every,
            "run": newest.get(job.name),
            "status": statuses.get(UUID(newest[job.name].task_result_id))
            if job.name in newest and newest[job.name].task_result_id
            else None,
        }
        for job in PERIODIC_JOBS
    ]
    attention = list(
        DBTaskResult.objects.filter(
            Q(status=TaskResultStatus.FAILED)
            | Q(status=TaskResultStatus.READY) & ~Q(exception_class_path="")
        )
        .only(
            "id",
            "status",
            "task_path",
            "queue_name",
            "worker_ids",
            "enqueued_at",
            "finished_at",
            "run_after",
            "exception_class_path",
        )
        .order_by("-enqueued_at")[:50]
    )
    for row in attention:
        row.name = _short(row.task_path)  # type: ignore[attr-defined]
        row.error = row.exception_class_path.rsplit(".", 1)[-1]  # type: ignore[attr-defined]
    counts = {
        status: DBTaskResult.objects.filter(status=status).count()
        for status in (TaskResultStatus.READY, TaskResultStatus.RUNNING)
    }
    backups = list(BackupRecord.objects.all()[:10])
    last_ok = next((b for b in backups if b.ok), None)
    return render(
        request,
        "operations/dashboard.html",
        {
            "workers": workers,
            "jobs": jobs,
            "attention": attention,
            "ready_count": counts[TaskResultStatus.READY],
            "running_count": counts[TaskResultStatus.RUNNING],
            "backups": backups,
            "backups_configured": bool(settings.BACKUP_DIR and settings.BACKUP_KEY),
            "backup_overdue": last_ok is None
            or last_ok.started_at < now - BACKUP_OVERDUE,
            "now": now,
        },
    )


@require_capability(Capability.MANAGE_OPERATIONS)
@require_POST
def retry(request: AuthenticatedHttpRequest, task_id: UUID) -> HttpResponse:
    result = get_object_or_404(DBTaskResult, pk=task_id)
    try:
        actions.retry_task(result, by=request.user)
    except actions.OperationsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{_short(result.task_path)} will run again shortly.")
    return redirect("operations:dashboard")
