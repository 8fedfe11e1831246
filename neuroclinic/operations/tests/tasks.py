"""Tasks the worker tests enqueue (importable by a worker in another process)."""

import time
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction
from django.tasks import task

from neuroclinic.operations.models import PeriodicRun


class Flaky(Exception):
    pass


@task
def always_fails() -> None:
    raise Flaky("this task always fails")


@task
def write_a_row_then_wait(job: str, started_file: str, release_file: str) -> int:
    """Write a row and, before committing, wait for `release_file` (the test kills us meanwhile)."""
    with transaction.atomic():
        PeriodicRun.objects.create(
            job=job,
            period_start=datetime(2000, 1, 1, tzinfo=UTC),
            claimed_at=datetime(2000, 1, 1, tzinfo=UTC),
            worker_id="test",
        )
        Path(started_file).touch()
        deadline = time.monotonic() + 60
        while not Path(release_file).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    return PeriodicRun.objects.filter(job=job).count()


@task
def returns(value: int) -> int:
    return value
