import argparse
from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.tasks import task_backends

from neuroclinic.operations.worker import IDLE_WAIT, STALE_AFTER, Worker


class Command(BaseCommand):
    help = (
        "Run background tasks and the periodic jobs (alert escalation every minute, "
        "reminders hourly, ledger and audit verification, statistics and backups nightly). "
        "Run one or more beside the web server; any number may run at once (docs/tasks.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--queues",
            default="default,bulk",
            help="comma-separated queues to take tasks from (default: default,bulk)",
        )
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="only run queued tasks; leave the periodic jobs to other workers",
        )
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="claim due periodic jobs, run every ready task, then stop (cron, tests)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to wait when no task is ready (default 1)",
        )
        parser.add_argument(
            "--stale-after",
            type=float,
            default=STALE_AFTER.total_seconds(),
            help="seconds without a heartbeat before a worker's task is retried (default 90)",
        )
        parser.add_argument(
            "--idle-wait",
            type=float,
            default=IDLE_WAIT.total_seconds(),
            help=(
                "with --until-idle: seconds in all to wait for a retry due soon, or for work a "
                "busy database kept from being claimed, before stopping (default 60; 0: stop at once)"
            ),
        )
        parser.add_argument("--worker-id", default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        queues = [q for q in options["queues"].split(",") if q]
        known = set(task_backends["default"].queues)
        unknown = sorted(set(queues) - known)
        if unknown or not queues:
            raise CommandError(
                f"Unknown queue(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(sorted(known))}."
            )
        if options["interval"] <= 0 or options["stale_after"] <= 0:
            raise CommandError("--interval and --stale-after must be positive.")
        if options["idle_wait"] < 0:
            raise CommandError("--idle-wait cannot be negative.")
        worker = Worker(
            queues=queues,
            worker_id=options["worker_id"],
            schedule=not options["no_schedule"],
            interval=options["interval"],
            until_idle=options["until_idle"],
            idle_wait=timedelta(seconds=options["idle_wait"]),
            stale_after=timedelta(seconds=options["stale_after"]),
        )
        worker.install_signal_handlers()
        self.stdout.write(f"Worker {worker.worker_id} on queues {', '.join(queues)}.")
        worker.run()
        self.stdout.write(f"Worker {worker.worker_id} ran {worker.tasks_run} task(s).")
