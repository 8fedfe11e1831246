import gc
from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

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
        "database; --demo-if-new, when the database is new) or refresh the planner "
        "statistics. `make run` runs it."
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
        parser.add_argument(
            "--demo-if-new",
            action="store_true",
            help=(
                "load the demo clinic when the database is new (no migration applied "
                "yet: a new or empty file or database); otherwise refresh the "
                "planner statistics. What `make run` asks for."
            ),
        )
        add_demo_arguments(parser)  # --patients, --time-zone: with a demo

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        if options["demo"] and options["demo_if_new"]:
            raise CommandError("Give --demo or --demo-if-new, not both.")
        # Whether the database is new is read from it, not from whether its file
        # exists: any command, `make test` too, creates the SQLite file (with no
        # tables) when it loads the settings, and `make run` then served a clinic with
        # no one to sign in as.
        demo = options["demo"] or (options["demo_if_new"] and self._is_new())
        if options["demo_if_new"] and demo:
            self.stdout.write("New database: migrating and loading the demo clinic...")
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
            if demo:
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

    def _is_new(self) -> bool:
        return not MigrationRecorder(connection).has_table()
