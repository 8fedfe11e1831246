"""`neuroclinic mllp [--host 127.0.0.1] [--port 2575]`: listen for HL7 v2 ORU^R01 from monitors."""

import asyncio
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from neuroclinic.interop.hl7.mllp import start_server


class Command(BaseCommand):
    help = "Listen for HL7 v2 ORU^R01 messages over MLLP and feed their vitals to running sessions."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2575)

    def handle(self, *args: Any, **options: Any) -> None:
        async def run() -> None:
            server = await start_server(options["host"], options["port"])
            self.stdout.write(f"MLLP listening on {options['host']}:{options['port']}")
            async with server:
                await server.serve_forever()

        try:
            asyncio.run(run())
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
