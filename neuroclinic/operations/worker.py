"""The worker: runs queued tasks, claims periodic jobs, retries failures, rescues abandoned tasks.

One loop per process (`neuroclinic worker`, docs/tasks.md):

1. tick the schedule: for each periodic job whose current period nobody has
   claimed, insert the unique (job, period) row and enqueue its task in one
   transaction, so two workers never run one period twice;
2. every half minute, hand back tasks whose worker stopped sending heartbeats
   (killed, machine lost): they run again, counted as an attempt;
3. claim the next ready task (row lock, SKIP LOCKED on PostgreSQL, an exclusive
   transaction on SQLite), run it, and record success, or schedule a retry with
   backoff, or record the failure for the operations page.

A task is never half done because each unit of its work is one database
transaction: a worker killed mid-task loses only an uncommitted transaction,
and the retry redoes what was not committed (tasks are idempotent: a row lock
or a unique constraint decides, never the worker).
"""

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from traceback import format_exception
from types import FrameType
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    close_old_connections,
    connections,
    transaction,
)
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskContext, TaskResultStatus
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from neuroclinic.operations.models import PeriodicRun, WorkerHeartbeat
from neuroclinic.operations.schedule import PERIODIC_JOBS, PeriodicJob, retry_policy

logger = logging.getLogger("neuroclinic.worker")

HEARTBEAT_SECONDS = 10
REAP_SECONDS = 30
STALE_AFTER = timedelta(seconds=90)
# `--until-idle`: how long in all a worker waits for work that exists but that it
# cannot run yet (a retry due in a few seconds, a queue a busy SQLite file kept
# it from claiming, a period it could not claim), before it stops and leaves it
# to the next run. Covers the first retry of every policy (10-30 s).
IDLE_WAIT = timedelta(seconds=60)


class WorkerLost(Exception):
    """The worker running a task stopped sending heartbeats (killed, or its machine lost)."""


def new_worker_id() -> str:
    host = socket.gethostname()[:40]
    return f"{host}-{os.getpid()}-{get_random_string(6)}"


class Worker:
    def __init__(
        self,
        *,
        queues: Sequence[str],
        worker_id: str | None = None,
        schedule: bool = True,
        jobs: Sequence[PeriodicJob] = PERIODIC_JOBS,
        interval: float = 1.0,
        until_idle: bool = False,
        idle_wait: timedelta = IDLE_WAIT,
        stale_after: timedelta = STALE_AFTER,
        backend: str = DEFAULT_TASK_BACKEND_ALIAS,
        heartbeat: bool = True,
        own_connections: bool = True,
    ) -> None:
        self.queues = list(queues)
        self.worker_id = worker_id or new_worker_id()
        self.schedule = schedule
        self.jobs = list(jobs)
        self.interval = interval
        self.until_idle = until_idle
        self.idle_wait = idle_wait
        self.stale_after = stale_after
        self.backend = backend
        self.heartbeat = (
            heartbeat  # off in-process (tests): the thread needs its own connection
        )
        # In-process (tests, run_queued_tasks) the caller's connection and its
        # transaction are not ours to close.
        self.own_connections = own_connections
        self.tasks_run = 0
        self._stop = threading.Event()
        self._running_task = False
        self._claimed_periods: dict[
            str, datetime
        ] = {}  # a shortcut only: the table decides
        self._last_reap = 0.0
        self._schedule_pending = False  # a period left unclaimed by a busy database

    # -- lifecycle ---------------------------------------------------------

    def run(self) -> None:
        self._register()
        beat = threading.Thread(target=self._heartbeat_loop, daemon=True)
        if self.heartbeat:
            beat.start()
        logger.info(
            "Worker %s started on queues %s", self.worker_id, ",".join(self.queues)
        )
        waited = 0.0  # until-idle: seconds spent waiting for work not yet runnable
        try:
            while not self._stop.is_set():
                if self.own_connections:
                    close_old_connections()
                now = timezone.now()
                if self.schedule:
                    self.tick_schedule(now)
                if (
                    time.monotonic() - self._last_reap >= REAP_SECONDS
                    or self.until_idle
                ):
                    self.requeue_abandoned(now)
                    self._last_reap = time.monotonic()
                result = self.claim_next()
                if result is not None:
                    self.run_task(result)
                    continue
                if self.until_idle:
                    pause = self._pause_before_idle(
                        timezone.now(), self.idle_wait.total_seconds() - waited
                    )
                    if pause is None:
                        break
                    waited += pause
                    self._stop.wait(pause)
                    continue
                self._stop.wait(self.interval)
        finally:
            self._stop.set()
            if self.heartbeat:
                beat.join(timeout=HEARTBEAT_SECONDS + 1)
            self._unregister()
            logger.info(
                "Worker %s stopped after %d task(s)", self.worker_id, self.tasks_run
            )

    def _pause_before_idle(self, now: datetime, budget: float) -> float | None:
        """Until-idle: how long to wait before looking again, or None to stop.

        Nothing claimable is not yet idle: a task may be ready but the claim
        lost to a busy database, a failed task may be waiting for its retry a
        few seconds away, or a period may be unclaimed because the database was
        busy. Stopping then would leave the work for the next run (a test's
        last READY task, a cron run's retry). The wait is bounded by `budget`.
        """
        if budget <= 0:
            return None
        waiting = DBTaskResult.objects.filter(
            backend_name=self.backend,
            queue_name__in=self.queues,
            status=TaskResultStatus.READY,
        )
        if self._schedule_pending or waiting.ready().exists():
            return min(self.interval, budget)  # busy database: try again shortly
        next_at = (
            waiting.exclude(run_after=get_date_max())
            .order_by("run_after")
            .values_list("run_after", flat=True)
            .first()
        )
        if next_at is None:
            return None
        due_in = (next_at - now).total_seconds()
        if due_in > budget:
            logger.info(
                "Stopping: the next task is due at %s, past the wait for idle",
                next_at.isoformat(),
            )
            return None
        return min(max(due_in, 0.0) + 0.05, self.interval, budget)

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stop.is_set() and self._running_task:
            # Second signal: stop now. The task's open transaction rolls back and,
            # with this worker's heartbeat gone, another worker retries it.
            logger.warning("Stopping now; the running task will be retried.")
            raise SystemExit(1)
        logger.warning(
            "%s: finishing the current task, then stopping (again to stop now).",
            signal.strsignal(signum),
        )
        self._stop.set()

    def _register(self) -> None:
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "queues": ",".join(self.queues)[:200],
                "started_at": now,
                "seen_at": now,
            },
        )

    def _unregister(self) -> None:
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError:
            logger.warning("Could not remove worker %s's heartbeat", self.worker_id)

    def _heartbeat_loop(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
                        seen_at=timezone.now()
                    )
                except DatabaseError:
                    # SQLite: a long write transaction holds the lock; try again soon.
                    close_old_connections()
        finally:
            connections.close_all()

    # -- the schedule ------------------------------------------------------

    def tick_schedule(self, now: datetime) -> list[str]:
        """Claim and enqueue every periodic job whose current period is unclaimed."""
        enqueued = []
        self._schedule_pending = False
        for job in self.jobs:
            start = job.period_start(now)
            if self._claimed_periods.get(job.name) == start:
                continue
            try:
                if claim_period(job, start, now=now, worker_id=self.worker_id):
                    enqueued.append(job.name)
                    logger.debug("Enqueued %s for %s", job.name, start.isoformat())
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
                self._schedule_pending = True
                continue  # busy database: the next tick tries again
            self._claimed_periods[job.name] = start
        return enqueued

    # -- abandoned tasks ---------------------------------------------------

    def requeue_abandoned(self, now: datetime) -> int:
        """Hand back running tasks whose worker has gone silent; give up after the policy's attempts."""
        alive = set(
            WorkerHeartbeat.objects.filter(
                seen_at__gte=now - self.stale_after
            ).values_list("worker_id", flat=True)
        )
        requeued = 0
        running = DBTaskResult.objects.running().filter(backend_name=self.backend)
        for result in running.only("id", "worker_ids"):
            last_worker = result.worker_ids[-1] if result.worker_ids else None
            if last_worker in alive:
                continue
            try:
                with transaction.atomic():
                    locked = (
                        DBTaskResult.objects.select_for_update()
                        .filter(pk=result.pk, status=TaskResultStatus.RUNNING)
                        .first()
                    )
                    if locked is None or locked.worker_ids != result.worker_ids:
                        continue
                    lost = WorkerLost(
                        f"worker {last_worker} stopped during attempt {len(locked.worker_ids)}"
                    )
                    _schedule_retry_or_fail(locked, lost, now=now, at_once=True)
                    requeued += 1
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
        if requeued:
            logger.warning("Handed back %d task(s) from silent workers", requeued)
        return requeued

    # -- running tasks -----------------------------------------------------

    def claim_next(self) -> DBTaskResult[..., Any] | None:
        ready = DBTaskResult.objects.ready().filter(
            backend_name=self.backend, queue_name__in=self.queues
        )
        try:
            with exclusive_transaction(ready.db):
                result = ready.get_locked()
                if result is not None:
                    result.claim(self.worker_id)
                return result
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None
            raise

    def run_task(self, result: DBTaskResult[..., Any]) -> None:
        self._running_task = True
        started = time.monotonic()
        try:
            try:
                task = result.task
            except (ImportError, SuspiciousOperation) as exc:
                result.set_failed(exc)  # no code to run: retrying cannot help
                logger.error("Task %s names no task: %s", result.id, result.task_path)
                return
            task_result = result.task_result
            task_started.send(sender=type(task.get_backend()), task_result=task_result)
            try:
                if task.takes_context:
                    value = task.call(
                        TaskContext(task_result=task_result),
                        *task_result.args,
                        **task_result.kwargs,
                    )
                else:
                    value = task.call(*task_result.args, **task_result.kwargs)
                result.set_successful(value)
                logger.info(
                    "%s succeeded in %.1f s",
                    result.task_path,
                    time.monotonic() - started,
                )
            except Exception as exc:
                retrying = _schedule_retry_or_fail(result, exc, now=timezone.now())
                logger.error(
                    "%s failed (attempt %d, %s): %s",
                    result.task_path,
                    len(result.worker_ids),
                    "will retry" if retrying else "gave up",
                    type(exc).__name__,
                )
            task_finished.send(
                sender=type(task.get_backend()), task_result=result.task_result
            )
        finally:
            self._running_task = False
            self.tasks_run += 1


def claim_period(
    job: PeriodicJob, period_start: datetime, *, now: datetime, worker_id: str
) -> bool:
    """Enqueue `job` for this period unless someone already has. True when this call did."""
    if PeriodicRun.objects.filter(job=job.name, period_start=period_start).exists():
        return False
    task = import_string(job.task)
    try:
        with transaction.atomic():
            result = task.enqueue()
            PeriodicRun.objects.create(
                job=job.name,
                period_start=period_start,
                claimed_at=now,
                worker_id=worker_id,
                task_result_id=str(result.id),
            )
    except IntegrityError:
        return False  # another worker claimed it between our look and our insert
    return True


def _schedule_retry_or_fail(
    result: DBTaskResult[..., Any],
    exc: BaseException,
    *,
    now: datetime,
    at_once: bool = False,
) -> bool:
    """Put a failed attempt back in the queue after the policy's delay, or mark it failed.

    The error stays on the row either way, so the operations page shows what
    went wrong on the last attempt. Returns True when the task will run again.
    """
    policy = retry_policy(result.task_path)
    attempts = len(result.worker_ids)
    if attempts >= policy.max_attempts:
        result.set_failed(exc)
        return False
    result.status = TaskResultStatus.READY
    # A lost worker says nothing about the task: run it again straight away.
    result.run_after = now if at_once else now + policy.delay(attempts)
    result.exception_class_path = f"{type(exc).__module__}.{type(exc).__qualname__}"
    result.traceback = "".join(format_exception(exc))
    result.finished_at = None
    result.save(
        update_fields=[
            "status",
            "run_after",
            "exception_class_path",
            "traceback",
            "finished_at",
        ]
    )
    return True


def run_queued_tasks(*, queues: Sequence[str] = ("default", "bulk")) -> int:
    """Run every ready task in this process and return how many ran (tests; other apps' tests too)."""
    worker = Worker(
        queues=queues,
        schedule=False,
        until_idle=True,
        idle_wait=timedelta(0),  # tests move run_after themselves
        heartbeat=False,
        own_connections=False,
    )
    worker.run()
    return worker.tasks_run
