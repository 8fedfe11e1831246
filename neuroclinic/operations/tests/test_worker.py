"""The worker in this process: periods claimed once, retries with backoff, abandoned tasks handed back."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.models import PortalLink, SafetyAlert
from neuroclinic.measures.tasks import (
    escalate_safety_alerts,
    send_questionnaire_reminders,
)
from neuroclinic.notifications.models import Notification
from neuroclinic.operations import worker as worker_module
from neuroclinic.operations.models import PeriodicRun, WorkerHeartbeat
from neuroclinic.operations.schedule import (
    PERIODIC_JOBS,
    PeriodicJob,
    RetryPolicy,
)
from neuroclinic.operations.tests import factories
from neuroclinic.operations.tests.tasks import always_fails, returns
from neuroclinic.operations.worker import Worker, run_queued_tasks
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

T = datetime(2026, 3, 10, 14, 37, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("every", "at", "start"),
    [
        (timedelta(minutes=1), timedelta(0), datetime(2026, 3, 10, 14, 37, tzinfo=UTC)),
        (
            timedelta(hours=1),
            timedelta(minutes=5),
            datetime(2026, 3, 10, 14, 5, tzinfo=UTC),
        ),
        (
            timedelta(days=1),
            timedelta(hours=8),
            datetime(2026, 3, 10, 8, 0, tzinfo=UTC),
        ),
        # before today's 08:00 the period is yesterday's
        (
            timedelta(days=1),
            timedelta(hours=15),
            datetime(2026, 3, 9, 15, 0, tzinfo=UTC),
        ),
    ],
)
def test_periods_are_aligned_to_utc(
    every: timedelta, at: timedelta, start: datetime
) -> None:
    assert PeriodicJob("j", "x.y", every, at=at).period_start(T) == start


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 30), (2, 120), (3, 480), (4, 1920), (5, 3600), (9, 3600)],
)
def test_retries_back_off_to_an_hour(attempts: int, seconds: int) -> None:
    assert RetryPolicy().delay(attempts) == timedelta(seconds=seconds)


def test_two_workers_ticking_at_once_enqueue_each_period_once() -> None:
    first = Worker(queues=["default"], heartbeat=False)
    second = Worker(queues=["default"], heartbeat=False)

    enqueued_first = first.tick_schedule(T)
    enqueued_second = second.tick_schedule(T)
    enqueued_later = second.tick_schedule(T + timedelta(seconds=30))

    assert sorted(enqueued_first) == sorted(job.name for job in PERIODIC_JOBS)
    assert enqueued_second == []
    assert enqueued_later == []  # same minute: the escalation period is still claimed
    assert PeriodicRun.objects.count() == len(PERIODIC_JOBS)
    assert DBTaskResult.objects.count() == len(PERIODIC_JOBS)
    assert second.tick_schedule(T + timedelta(minutes=1)) == ["measures.escalate"]


def test_a_failing_task_is_retried_with_backoff_then_marked_failed() -> None:
    result = always_fails.enqueue()

    run_queued_tasks()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.READY
    assert len(row.worker_ids) == 1
    assert row.exception_class_path.endswith("Flaky")
    assert (
        timedelta(seconds=25) < row.run_after - timezone.now() <= timedelta(seconds=30)
    )
    assert run_queued_tasks() == 0  # not before its time

    for _ in range(4):
        DBTaskResult.objects.filter(pk=result.id).update(run_after=timezone.now())
        run_queued_tasks()

    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert len(row.worker_ids) == 5
    assert "this task always fails" in row.traceback


def test_a_task_whose_worker_went_silent_is_handed_back() -> None:
    result = always_fails.enqueue()
    silent = Worker(queues=["default"], worker_id="silent-1", heartbeat=False)
    silent._register()
    claimed = silent.claim_next()
    assert claimed is not None
    WorkerHeartbeat.objects.filter(worker_id="silent-1").update(
        seen_at=timezone.now() - timedelta(minutes=5)
    )
    alive = Worker(queues=["default"], heartbeat=False)
    alive._register()

    assert alive.requeue_abandoned(timezone.now()) == 1

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.READY
    assert row.exception_class_path == "neuroclinic.operations.worker.WorkerLost"
    assert row.worker_ids == ["silent-1"]


def test_a_running_task_of_a_live_worker_is_left_alone() -> None:
    always_fails.enqueue()
    busy = Worker(queues=["default"], worker_id="busy-1", heartbeat=False)
    busy._register()
    assert busy.claim_next() is not None

    assert (
        Worker(queues=["default"], heartbeat=False).requeue_abandoned(timezone.now())
        == 0
    )


def test_escalation_runs_once_however_often_it_is_enqueued(
    patient: Patient, prescriber: User, nurse: User, director: User
) -> None:
    alert = factories.overdue_alert(patient, prescriber=prescriber, nurse=nurse)

    escalate_safety_alerts.enqueue()
    escalate_safety_alerts.enqueue()
    run_queued_tasks()

    alert.refresh_from_db()
    assert alert.escalated_to == director
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.SAFETY_ALERT_ESCALATED
        ).count()
        == 1
    )
    assert Notification.objects.filter(subject__startswith="Escalated").count() == 1
    assert SafetyAlert.objects.filter(escalated_at__isnull=False).count() == 1


def test_reminders_go_once_however_often_they_are_enqueued(patient: Patient) -> None:
    factories.due_questionnaires(patient)

    send_questionnaire_reminders.enqueue()
    send_questionnaire_reminders.enqueue()
    run_queued_tasks()

    assert PortalLink.objects.filter(patient=patient).count() == 1
    results = DBTaskResult.objects.filter(
        task_path__endswith="send_questionnaire_reminders"
    )
    assert sorted(r.return_value for r in results) == [0, 1]


def _until_idle_worker(**kwargs: object) -> Worker:
    """`worker --until-idle` as the command makes it, in this process and its transaction."""
    return Worker(
        queues=["default"],
        schedule=False,
        until_idle=True,
        interval=0.1,
        heartbeat=False,
        own_connections=False,
        **kwargs,  # type: ignore[arg-type]
    )


def test_until_idle_runs_a_task_due_in_a_moment_before_it_stops() -> None:
    # A task retried after a busy database is READY with a run_after seconds
    # away: stopping because nothing is due *now* left it behind (the flaky
    # two-worker test).
    result = returns.using(run_after=timezone.now() + timedelta(seconds=1)).enqueue(7)
    worker = _until_idle_worker()

    worker.run()

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == 7
    assert worker.tasks_run == 1


def test_until_idle_keeps_trying_when_a_busy_database_refuses_the_claim(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = returns.enqueue(3)
    refusals = iter([True, True])

    @contextmanager
    def busy_then_free(using: str | None = None) -> Iterator[None]:
        if next(refusals, False):
            raise OperationalError("database is locked")
        with exclusive_transaction(using):
            yield

    monkeypatch.setattr(worker_module, "exclusive_transaction", busy_then_free)
    worker = _until_idle_worker()

    worker.run()

    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL
    assert worker.tasks_run == 1


def test_until_idle_leaves_a_task_due_after_its_wait_to_the_next_run() -> None:
    later = returns.using(run_after=timezone.now() + timedelta(minutes=5)).enqueue(1)
    worker = _until_idle_worker(idle_wait=timedelta(seconds=60))
    started = timezone.now()

    worker.run()

    assert worker.tasks_run == 0
    assert DBTaskResult.objects.get(pk=later.id).status == TaskResultStatus.READY
    assert timezone.now() - started < timedelta(
        seconds=30
    )  # stopped, did not wait it out


def test_the_worker_command_refuses_a_negative_idle_wait() -> None:
    with pytest.raises(CommandError, match="--idle-wait"):
        call_command("worker", "--until-idle", "--idle-wait", "-1")
