from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.operations.integrity import VERIFIERS, run_verifier


class Command(BaseCommand):
    help = (
        "Run every integrity check: the audit chain, each registrant's ledger chain and "
        "balances, and every sealed clinical and DEA record against its seal. Exits "
        "non-zero naming the first record that no longer matches (docs/security.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--checkpoints",
            action="store_true",
            help="also prove the chains still hold every signed checkpoint",
        )
        parser.add_argument(
            "--checkpoint-copy",
            action="append",
            default=[],
            metavar="FILE",
            help="a checkpoint kept elsewhere (the emailed attachment): prove the chains "
            "and the checkpoint directory still hold it; implies --checkpoints; repeatable",
        )
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="walk each ledger chain only from the newest signed checkpoint on "
            "(the default is the full walk from entry #1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths = list(VERIFIERS)
        if options["incremental"]:
            paths = [
                f"{p}_incremental" if p.endswith(".ledger_chain_problems") else p
                for p in paths
            ]
        copies = [Path(p) for p in options["checkpoint_copy"]]
        if options["checkpoints"] or copies:
            paths.append("neuroclinic.operations.integrity.checkpoint_problems")
        problems: list[str] = []
        for path in paths:
            name = path.rsplit(".", 1)[-1].replace("_problems", "").replace("_", " ")
            problems += self._report(name, run_verifier(path))
        if copies:
            from neuroclinic.operations.checkpoints import copy_problems

            problems += self._report("checkpoint copies", copy_problems(copies))
        if problems:
            raise CommandError(
                f"Integrity check failed ({len(problems)} problem(s)); first: {problems[0]}"
            )
        self.stdout.write("Everything verified intact.")

    def _report(self, name: str, found: list[str]) -> list[str]:
        self.stdout.write(f"{name}: {'intact' if not found else 'BROKEN'}")
        for problem in found:
            self.stdout.write(f"  - {problem}")
        return found
