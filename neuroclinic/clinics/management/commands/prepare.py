import gc
from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from neuroclinic.clinics.management.commands.demo import add_demo_arguments


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while migrations and the demo build
    thousands of short-lived model objects and states (about 5 % of their CPU at the
    default thresholds; benchmarks/README.md). Memory stays bounded: collections still
    run, every 50,000 allocations instead of every 2,000."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


class Command(BaseCommand):
    help = (
        "Bring the database up to date in one process: run the system checks, apply the "
        "migrations, create the cache table, then load the demo clinic (--demo, for a new "
        "database) or refresh the planner statistics. `make run` runs it."
    )
    # One process instead of four (issue 18: a new database ready in under 30 s): each
    # would start Python and Django again, and the checks import the URLs and API
    # schemas the demo's links need anyway. The checks must not run beside migrate:
    # they probe the database, which migrate holds locked on SQLite.

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--demo",
            action="store_true",
            help="load the demo clinic after migrating (the database must be new)",
        )
        add_demo_arguments(parser)  # --patients, --time-zone: with --demo

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        with _fewer_collections():
            # The checks ran once, before handle(), unless --skip-checks.
            call_command(
                "migrate",
                interactive=False,
                verbosity=max(verbosity - 1, 0),
                skip_checks=True,
                stdout=self.stdout,
            )
            call_command("createcachetable", verbosity=verbosity, stdout=self.stdout)
            if options["demo"]:
                call_command(
                    "demo",
                    patients=options["patients"],
                    time_zone=options["time_zone"],
                    skip_checks=True,
                    stdout=self.stdout,
                    stderr=self.stderr,
                )
            else:
                call_command("optimize", verbosity=verbosity, stdout=self.stdout)
