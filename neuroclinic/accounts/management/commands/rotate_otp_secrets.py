from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from neuroclinic.accounts import otp_secrets
from neuroclinic.accounts.models import Authenticator
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record


class Command(BaseCommand):
    help = (
        "Re-encrypt every authenticator secret under the first key in OTP_SECRET_KEYS "
        "(docs/security.md, 'Two-factor secrets'). Run after putting the new key first; "
        "then the old key can be removed. Audited."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            devices = list(Authenticator.objects.select_for_update().order_by("id"))
            try:
                for device in devices:
                    device.secret_encrypted = otp_secrets.reencrypt_secret(
                        device.secret_encrypted
                    )
            except otp_secrets.SecretUnreadable as error:
                raise CommandError(f"Nothing changed: {error}") from None
            Authenticator.objects.bulk_update(devices, ["secret_encrypted"])
            record(
                AuditEvent.Action.OTP_SECRETS_ROTATED,
                actor=None,
                actor_username="(command line)",
                devices=len(devices),
            )
        self.stdout.write(f"Re-encrypted {len(devices)} authenticator secrets.")
