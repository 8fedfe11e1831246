import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from neuroclinic.operations.startup import prepare


class Command(BaseCommand):
    help = (
        "Serve Neuroclinic with gunicorn. Migrates, refreshes statistics and collects static "
        "files only when they changed since the last start (var/startup-state.json), so a "
        "restart takes seconds. GUNICORN_CMD_ARGS adds gunicorn options (docs/deploy.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--bind",
            default=settings.SERVE_BIND,
            help="address:port to listen on (default BIND or 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.SERVE_WORKERS,
            help="web worker processes (default WEB_CONCURRENCY or 2)",
        )
        parser.add_argument(
            "--static-only",
            action="store_true",
            help="only collect static files if they changed, then stop (image builds)",
        )
        parser.add_argument(
            "--prepare-only",
            action="store_true",
            help="do the start-up work, then stop without serving",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        report = prepare(
            write=lambda line: self.stdout.write(line),
            static_only=options["static_only"],
        )
        for what in report.skipped:
            self.stdout.write(f"Skipped {what}.")
        self.stdout.write(f"Ready to serve after {time.monotonic() - started:.1f} s.")
        if options["prepare_only"] or options["static_only"]:
            return
        from gunicorn.app.wsgiapp import WSGIApplication  # type: ignore[import-untyped]

        # In this process: Django is loaded once here and forked into the workers.
        sys.argv = [
            "gunicorn",
            "neuroclinic.wsgi",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            # Under the instance's own var/: two instances on one host never share
            # gunicorn's default ~/.gunicorn/gunicorn.ctl.
            "--control-socket",
            str(settings.VAR_DIR / "gunicorn.ctl"),
        ]
        WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn").run()
