"""Worker processes for real: two at once send nothing twice; one killed mid-task leaves it to be retried.

These run `neuroclinic worker` in other processes against the test database
(SQLite through a file copy, PostgreSQL directly): see live.py.
"""

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.models import DueMeasure, PortalLink, SafetyAlert
from neuroclinic.measures.tasks import (
    escalate_safety_alerts,
    send_questionnaire_reminders,
)
from neuroclinic.notifications.models import Notification
from neuroclinic.operations.models import PeriodicRun, WorkerHeartbeat
from neuroclinic.operations.schedule import PERIODIC_JOBS
from neuroclinic.operations.tests import factories
from neuroclinic.operations.tests.live import LiveDatabase, wait_for
from neuroclinic.operations.tests.tasks import write_a_row_then_wait
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveDatabase]:
    live = LiveDatabase.start(tmp_path)
    yield live
    live.stop()


def test_two_workers_at_once_escalate_once_and_remind_once(
    live: LiveDatabase, patient: Patient, prescriber: User, nurse: User, director: User
) -> None:
    alert = factories.overdue_alert(patient, prescriber=prescriber, nurse=nurse)
    factories.due_questionnaires(patient)
    # Besides the schedule's own run, queue extra copies so both workers race on them.
    for _ in range(3):
        escalate_safety_alerts.enqueue()
        send_questionnaire_reminders.enqueue()
    live.push()

    workers = [
        live.spawn("worker", "--until-idle", "--worker-id", f"w{i}", log=f"w{i}.log")
        for i in (1, 2)
    ]
    codes = [w.wait(timeout=300) for w in workers]
    live.pull()

    assert codes == [0, 0], live.log("w1.log") + live.log("w2.log")
    alert = SafetyAlert.objects.get(pk=alert.pk)
    assert alert.escalated_to == director
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.SAFETY_ALERT_ESCALATED
        ).count()
        == 1
    )
    assert (
        Notification.objects.filter(
            recipient=director, subject__startswith="Escalated"
        ).count()
        == 1
    )
    assert PortalLink.objects.filter(patient=patient).count() == 1
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PORTAL_LINK_SENT).count()
        == 1
    )
    assert set(DueMeasure.objects.values_list("reminders_sent", flat=True)) == {1}
    # every periodic job claimed by one of the two, and no period of a job claimed by
    # both (a slow run may cross into a job's next period: that period is a new claim)
    runs = list(PeriodicRun.objects.values_list("job", "period_start", "worker_id"))
    assert {job for job, _, _ in runs} == {job.name for job in PERIODIC_JOBS}
    periods = [(job, start) for job, start, _ in runs]
    assert len(periods) == len(set(periods)), runs
    statuses = set(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == {TaskResultStatus.SUCCESSFUL}
    assert not WorkerHeartbeat.objects.exists()  # both said goodbye


def test_a_worker_killed_mid_task_leaves_the_task_to_be_retried_never_half_done(
    live: LiveDatabase, tmp_path: Path
) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    result = write_a_row_then_wait.enqueue("killed", str(started), str(release))
    live.push()

    doomed = live.spawn(
        "worker",
        "--no-schedule",
        "--queues",
        "default",
        "--worker-id",
        "doomed",
        log="doomed.log",
    )
    wait_for(started, seconds=60, processes=[doomed])
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    live.pull()

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.RUNNING
    assert row.worker_ids == ["doomed"]
    assert not PeriodicRun.objects.filter(
        job="killed"
    ).exists()  # its transaction rolled back

    release.touch()
    time.sleep(
        1.5
    )  # the doomed worker's last heartbeat is now older than --stale-after
    rescuer = live.run(
        "worker",
        "--no-schedule",
        "--until-idle",
        "--queues",
        "default",
        "--stale-after",
        "1",
        "--worker-id",
        "rescuer",
    )
    live.pull()

    assert rescuer.returncode == 0, rescuer.stdout + rescuer.stderr
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.worker_ids == ["doomed", "rescuer"]
    assert row.return_value == 1
    assert PeriodicRun.objects.filter(job="killed").count() == 1
