"""Move every authenticator and recovery code out of django-otp's clear-text tables.

Each TOTP secret is re-stored encrypted (accounts/otp_secrets.py) with its
drift and last accepted step, and each unused recovery code as its SHA-256
digest; the clear-text rows are then deleted. Nobody has to enrol again.
"""

from binascii import unhexlify

from django.db import migrations

from neuroclinic.accounts import otp_secrets


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    Authenticator = apps.get_model("accounts", "Authenticator")
    RecoveryCodeSet = apps.get_model("accounts", "RecoveryCodeSet")
    RecoveryCode = apps.get_model("accounts", "RecoveryCode")

    for old in TOTPDevice.objects.order_by("id"):
        Authenticator.objects.create(
            user_id=old.user_id,
            name=old.name,
            confirmed=old.confirmed,
            secret_encrypted=otp_secrets.encrypt_secret(unhexlify(old.key)),
            step=old.step,
            t0=old.t0,
            digits=old.digits,
            tolerance=old.tolerance,
            drift=old.drift,
            last_t=old.last_t,
            last_used_at=old.last_used_at,
        )
    TOTPDevice.objects.all().delete()

    for old_set in StaticDevice.objects.order_by("id"):
        code_set = RecoveryCodeSet.objects.create(
            user_id=old_set.user_id, name=old_set.name, confirmed=old_set.confirmed
        )
        digests = {
            otp_secrets.recovery_code_digest(token.token)
            for token in StaticToken.objects.filter(device_id=old_set.id)
        }
        RecoveryCode.objects.bulk_create(
            RecoveryCode(code_set=code_set, digest=d) for d in sorted(digests)
        )
    StaticDevice.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_authenticator_encrypted_recovery_hashed"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
