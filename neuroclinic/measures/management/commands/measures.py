from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from neuroclinic.measures.actions.alerts import escalate_overdue_alerts
from neuroclinic.measures.actions.due_measures import send_due_reminders


class Command(BaseCommand):
    help = "Measurement jobs: `escalate` unacknowledged safety alerts, `remind` patients of due questionnaires."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser(
            "escalate", help="send overdue safety alerts to the medical director"
        )
        sub.add_parser("remind", help="send links for questionnaires that are due")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "escalate":
            escalated = escalate_overdue_alerts()
            self.stdout.write(f"Escalated {len(escalated)} safety alert(s).")
        else:
            sent = send_due_reminders()
            self.stdout.write(f"Sent {sent} reminder link(s).")
