"""`neuroclinic hl7_simulate --monitor SERIAL [--monitor ...] [--host] [--port] [--rate]
[--count] [--seed]`: synthetic bedside monitors sending ORU^R01 vitals over MLLP."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.interop.hl7.simulate import SimulatorError, simulate


class Command(BaseCommand):
    help = (
        "Send realistic ORU^R01 vital-sign messages from synthetic bedside monitors to an "
        "MLLP listener (`neuroclinic mllp`), for tests and the demo."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2575)
        parser.add_argument(
            "--monitor",
            action="append",
            required=True,
            help="The monitor's serial number or Device UUID (OBX-18); repeat for more.",
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=0.2,
            help="Messages a second from each monitor (0: as fast as ACKs come back).",
        )
        parser.add_argument(
            "--count",
            type=int,
            default=0,
            help="Messages from each monitor, then stop (0: until interrupted).",
        )
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rate"] < 0 or options["count"] < 0:
            raise CommandError("--rate and --count must not be negative.")
        monitors = [m.strip() for m in options["monitor"]]
        if any(not m or len(m) > 64 or "|" in m or "^" in m for m in monitors):
            raise CommandError(
                "--monitor: a serial number of 1 to 64 characters, without | or ^."
            )
        self.stdout.write(
            f"Sending from {len(monitors)} monitor(s) to {options['host']}:{options['port']}"
            f" at {options['rate']:g}/s each"
            + (f", {options['count']} each." if options["count"] else "; Ctrl-C stops.")
        )
        try:
            result = simulate(
                options["host"],
                options["port"],
                monitors,
                count=options["count"],
                rate=options["rate"],
                seed=options["seed"],
            )
        except SimulatorError as exc:
            raise CommandError(str(exc)) from None
        acks = ", ".join(f"{n} {code}" for code, n in sorted(result.acks.items()))
        self.stdout.write(
            f"Sent {result.sent} message(s) in {result.seconds:.1f} s "
            f"({result.rate:.1f}/s): {acks or 'no answers'}; "
            f"{result.reconnects} reconnect(s)."
        )
        if result.acks.get("AE") or result.acks.get("AR"):
            self.stderr.write(
                "Some messages were not stored: the reasons are kept with each "
                "message (interop.Hl7Message) and sent back in MSA-3."
            )
