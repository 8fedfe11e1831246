from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.accounts import actions
from neuroclinic.accounts.models import ApiToken, TokenScope, User


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens. A new token is printed once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="print a new token for a user")
        create.add_argument("username")
        create.add_argument(
            "--name", default="command line", help="what the token is for"
        )
        create.add_argument(
            "--days",
            type=int,
            default=None,
            help="how long it lasts (default API_TOKEN_DAYS, 90)",
        )
        create.add_argument(
            "--scope",
            choices=[s.value for s in TokenScope],
            default=TokenScope.FULL.value,
            help="full: what the user's role allows; vitals: post vital signs only",
        )
        listing = sub.add_parser(
            "list", help="list a user's tokens (never their values)"
        )
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["subcommand"]:
            case "create":
                user = self._user(options["username"])
                days = options["days"]
                if days is not None and days < 1:
                    raise CommandError("--days must be at least 1.")
                _, raw = actions.create_api_token(
                    user,
                    name=options["name"],
                    by=None,
                    days=days,
                    scope=TokenScope(options["scope"]),
                )
                self.stdout.write(raw)
            case "list":
                user = self._user(options["username"])
                for token in ApiToken.objects.filter(user=user):
                    state = (
                        "revoked"
                        if token.revoked_at
                        else "expired"
                        if token.is_expired
                        else "active"
                    )
                    expires = (
                        f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "-"
                    )
                    self.stdout.write(
                        f"{token.prefix}  {state:8}  {token.created_at:%Y-%m-%d}"
                        f"  expires {expires}  {token.scope:6}  {token.name}"
                    )
            case "revoke":
                matches = list(
                    ApiToken.objects.filter(
                        prefix=options["prefix"], revoked_at__isnull=True
                    )
                )
                if len(matches) != 1:
                    raise CommandError(
                        f"No single active token has the prefix {options['prefix']!r}."
                    )
                actions.revoke_api_token(matches[0], by=None)
                self.stdout.write(f"Revoked {matches[0].prefix}.")

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username!r} is deactivated.")
        return user
