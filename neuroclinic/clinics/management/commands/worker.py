import time
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

# (command arguments, every how many seconds). Each job is also a command of
# its own, so cron or a systemd timer can run it instead of this loop.
JOBS: list[tuple[tuple[str, ...], int]] = [
    (("measures", "escalate"), 60),
    (("measures", "remind"), 3600),
    (("optimize",), 86400),
    (("ledger", "verify", "--record"), 86400),  # the nightly ledger check
]


class Command(BaseCommand):
    help = (
        "Run the clinic's periodic jobs (alert escalation, reminders, ...) in a loop."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="run every job once and stop"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        last_run: dict[tuple[str, ...], float] = {}
        while True:
            now = time.monotonic()
            for job, every in JOBS:
                if options["once"] or now - last_run.get(job, -every) >= every:
                    close_old_connections()
                    try:
                        call_command(*job, stdout=self.stdout)
                    except Exception as exc:  # a failing job must not stop the others
                        self.stderr.write(
                            f"{' '.join(job)} failed: {exc.__class__.__name__}: {exc}"
                        )
                    last_run[job] = now
            if options["once"]:
                return
            time.sleep(5)
