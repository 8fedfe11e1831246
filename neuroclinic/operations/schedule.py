"""The one registry of periodic jobs and retry policies (docs/tasks.md).

A job names a task by its dotted path (so this module imports no app), how
often it runs and where in the period. Periods are aligned to the Unix epoch in
UTC: `every=timedelta(days=1), at=timedelta(hours=8)` runs once per UTC day,
from 08:00 UTC (night in the Americas). The worker claims a period with a
unique (job, period_start) row, so two workers never run one period twice; a
period nobody was up for is not made up, except that a worker that starts late
in a period still runs that period's job.

Adding a job: append a `PeriodicJob` here. Adding a task that needs other
retries than the default: add its dotted path to `RETRY_POLICIES`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # short and stable: it is the key of the claimed periods
    task: str  # dotted path of a django.tasks Task
    every: timedelta
    at: timedelta = timedelta(0)  # offset of the run inside each period

    def period_start(self, now: datetime) -> datetime:
        """Start of the period `now` falls in (the latest epoch + at + k * every <= now)."""
        elapsed = now - EPOCH - self.at
        periods = elapsed // self.every
        return EPOCH + self.at + periods * self.every


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    factor: int = 4
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt: 30 s, 2 min, 8 min, 32 min, 1 h."""
        delay: timedelta = self.first_delay * self.factor ** max(0, attempts - 1)
        return min(delay, self.max_delay)


MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob(
        "measures.escalate", "neuroclinic.measures.tasks.escalate_safety_alerts", MINUTE
    ),
    PeriodicJob(
        "measures.remind",
        "neuroclinic.measures.tasks.send_questionnaire_reminders",
        HOUR,
        at=timedelta(minutes=5),
    ),
    PeriodicJob(
        "scheduling.remind",
        "neuroclinic.scheduling.tasks.send_appointment_reminders",
        timedelta(minutes=10),
        at=timedelta(minutes=2),
    ),
    PeriodicJob(
        "ledger.verify",
        "neuroclinic.ledger.tasks.nightly_ledger_check",
        DAY,
        at=timedelta(hours=8),
    ),
    PeriodicJob(
        "audit.verify",
        "neuroclinic.audit.tasks.verify_audit_log",
        DAY,
        at=timedelta(hours=8, minutes=10),
    ),
    PeriodicJob(
        "integrity.checkpoint",
        "neuroclinic.operations.tasks.write_chain_checkpoint",
        HOUR,
        at=timedelta(minutes=15),
    ),
    PeriodicJob(
        "operations.statistics",
        "neuroclinic.operations.tasks.refresh_planner_statistics",
        DAY,
        at=timedelta(hours=8, minutes=20),
    ),
    PeriodicJob(
        "operations.backup",
        "neuroclinic.operations.tasks.scheduled_backup",
        DAY,
        at=timedelta(hours=9),
    ),
    PeriodicJob(
        "interop.expire_exports",
        "neuroclinic.interop.tasks.expire_bulk_exports",
        HOUR,
        at=timedelta(minutes=35),
    ),
    PeriodicJob(
        "outcomes.daily",
        "neuroclinic.outcomes.tasks.daily_outcomes_work",
        DAY,
        at=timedelta(hours=7, minutes=30),
    ),
    PeriodicJob(
        "outcomes.summaries",
        "neuroclinic.outcomes.tasks.refresh_changed_summaries",
        timedelta(minutes=10),
        at=timedelta(minutes=7),
    ),
    PeriodicJob(
        "operations.prune",
        "neuroclinic.operations.tasks.prune_finished_work",
        DAY,
        at=timedelta(hours=9, minutes=30),
    ),
]

DEFAULT_RETRY = RetryPolicy()
RETRY_POLICIES: dict[str, RetryPolicy] = {
    # A broken chain does not heal by trying again: one attempt, then the failure shows.
    "neuroclinic.ledger.tasks.nightly_ledger_check": RetryPolicy(max_attempts=1),
    "neuroclinic.audit.tasks.verify_audit_log": RetryPolicy(max_attempts=1),
    # Runs every minute anyway; retrying sooner than the next run helps little.
    "neuroclinic.measures.tasks.escalate_safety_alerts": RetryPolicy(
        max_attempts=3, first_delay=timedelta(seconds=10), factor=2
    ),
}


def retry_policy(task_path: str) -> RetryPolicy:
    return RETRY_POLICIES.get(task_path, DEFAULT_RETRY)
