"""`neuroclinic smart register|list|revoke`: SMART Backend Services clients."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.accounts.models import User
from neuroclinic.interop.actions import InteropError
from neuroclinic.interop.actions import smart as actions
from neuroclinic.interop.models import SmartClient


class Command(BaseCommand):
    help = "Register, list or revoke SMART Backend Services clients (machine access to /fhir/)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        register = sub.add_parser(
            "register", help="register a client and its public key"
        )
        register.add_argument("client_id")
        register.add_argument(
            "--user", required=True, help="the service account it acts as"
        )
        register.add_argument("--public-key", required=True, type=Path, help="PEM file")
        register.add_argument(
            "--scope", action="append", default=None, help="default system/*.read"
        )
        register.add_argument("--name", default="")
        sub.add_parser("list", help="list clients")
        revoke = sub.add_parser("revoke", help="revoke a client and its tokens")
        revoke.add_argument("client_id")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["subcommand"]:
            case "register":
                user = User.objects.filter(
                    username=options["user"], is_active=True
                ).first()
                if user is None:
                    raise CommandError(f"No active user named {options['user']!r}.")
                try:
                    pem = options["public_key"].read_text(encoding="utf-8")
                except OSError as exc:
                    raise CommandError(
                        f"Cannot read the key: {exc.strerror}."
                    ) from None
                try:
                    client = actions.register_client(
                        client_id=options["client_id"],
                        name=options["name"] or options["client_id"],
                        user=user,
                        public_key_pem=pem,
                        scopes=options["scope"] or ["system/*.read"],
                        by=None,
                    )
                except InteropError as exc:
                    raise CommandError(exc.message) from None
                self.stdout.write(
                    f"Registered {client.client_id} acting as {user.username}."
                )
            case "list":
                for c in SmartClient.objects.select_related("user"):
                    state = "revoked" if c.revoked_at else "active"
                    self.stdout.write(
                        f"{c.client_id}  {state:8}  {c.user.username}  {' '.join(c.scopes)}"
                    )
            case "revoke":
                found = SmartClient.objects.filter(
                    client_id=options["client_id"], revoked_at__isnull=True
                ).first()
                if found is None:
                    raise CommandError(f"No active client {options['client_id']!r}.")
                actions.revoke_client(found, by=None)
                self.stdout.write(f"Revoked {found.client_id}.")
