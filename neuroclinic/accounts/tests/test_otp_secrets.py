"""Second-factor secrets at rest: authenticator secrets encrypted, recovery codes hashed.

Issue #15 item 7.
"""

import importlib
from binascii import unhexlify
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django_otp.oath import hotp, totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from neuroclinic.accounts import actions, models, otp_secrets
from neuroclinic.accounts.models import (
    Authenticator,
    RecoveryCode,
    RecoveryCodeSet,
    User,
)
from neuroclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

move_second_factors = importlib.import_module(
    "neuroclinic.accounts.migrations.0005_move_second_factors"
)


def stored_row(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        return repr(cursor.fetchone())


def test_the_authenticator_secret_is_not_in_the_database_in_any_readable_form(
    nurse: User,
) -> None:
    device = Authenticator.objects.create(user=nurse, name="Phone", confirmed=True)
    secret = device.bin_key

    row = stored_row("accounts_authenticator", device.pk)

    assert len(secret) == 20
    for form in (
        secret.hex(),
        secret.hex().upper(),
        device.config_url.split("secret=")[1][:32],
    ):
        assert form not in row
    assert device.secret_encrypted in row


def test_a_code_computed_from_the_decrypted_secret_is_accepted_once(
    nurse: User,
) -> None:
    device = Authenticator.objects.create(user=nurse, name="Phone", confirmed=True)
    code = f"{totp(device.bin_key):06d}"

    assert device.verify_token(code) is True
    assert device.verify_token(code) is False  # a code is never accepted twice


def test_once_a_step_is_spent_the_next_steps_code_is_accepted_once_and_no_earlier_one(
    nurse: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An app whose clock runs a step fast: what the browser tests' LiveClinic.totp
    # offers when a demo user signs in twice within one 30-second step.
    # No throttle after a refusal: each refusal below is the replay or tolerance rule's.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    now = 1_800_000_010.0
    monkeypatch.setattr(models, "time", SimpleNamespace(time=lambda: now))
    device = Authenticator.objects.create(user=nurse, name="Phone", confirmed=True)
    step = int(now) // device.step

    def code(t: int) -> str:
        return f"{hotp(device.bin_key, t):06d}"

    assert device.verify_token(code(step)) is True
    assert device.verify_token(code(step)) is False  # replay
    assert device.verify_token(code(step + 1)) is True  # one step fast: tolerated
    assert device.drift == 1
    assert device.verify_token(code(step + 1)) is False  # replay
    assert device.verify_token(code(step)) is False  # earlier than the last accepted
    assert device.verify_token(code(step + 3)) is False  # beyond the tolerance


def test_a_new_key_encrypts_while_the_old_one_still_decrypts_and_rotation_moves_it(
    nurse: User,
) -> None:
    with override_settings(OTP_SECRET_KEYS="old passphrase"):
        device = Authenticator.objects.create(user=nurse, name="Phone", confirmed=True)
        secret = device.bin_key
    with override_settings(OTP_SECRET_KEYS="new passphrase, old passphrase"):
        assert Authenticator.objects.get(pk=device.pk).bin_key == secret
        rotated = otp_secrets.reencrypt_secret(device.secret_encrypted)
    with override_settings(OTP_SECRET_KEYS="new passphrase"):
        assert otp_secrets.decrypt_secret(rotated) == secret
        with pytest.raises(otp_secrets.SecretUnreadable, match="OTP_SECRET_KEYS"):
            _ = Authenticator.objects.get(pk=device.pk).bin_key


def test_without_a_configured_key_the_key_comes_from_the_secret_key(
    nurse: User,
) -> None:
    with override_settings(OTP_SECRET_KEYS="", SECRET_KEY="one-secret-key-" * 4):
        token = otp_secrets.encrypt_secret(b"x" * 20)
    with (
        override_settings(OTP_SECRET_KEYS="", SECRET_KEY="another-secret-" * 4),
        pytest.raises(otp_secrets.SecretUnreadable),
    ):
        otp_secrets.decrypt_secret(token)


def test_recovery_codes_carry_80_bits_and_only_their_digests_are_kept(
    nurse: User,
) -> None:
    codes = actions.confirm_totp_enrolment(
        nurse, Authenticator.objects.create(user=nurse, name="Phone")
    )

    digests = set(
        RecoveryCode.objects.filter(code_set__user=nurse).values_list(
            "digest", flat=True
        )
    )
    assert len(codes) == len(digests) == 10
    for code in codes:
        plain = otp_secrets.normalise_recovery_code(code)
        assert len(plain) == 16  # 16 base32 characters = 80 bits
        assert plain not in str(digests)
    assert digests == {otp_secrets.recovery_code_digest(c) for c in codes}


def test_a_wrong_recovery_code_deletes_nothing_and_counts_towards_the_throttle(
    nurse: User,
) -> None:
    actions.confirm_totp_enrolment(
        nurse, Authenticator.objects.create(user=nurse, name="Phone")
    )
    code_set = RecoveryCodeSet.objects.get(user=nurse)

    assert code_set.verify_token("aaaa-bbbb-cccc-dddd") is False

    code_set.refresh_from_db()
    assert code_set.throttling_failure_count == 1
    assert RecoveryCode.objects.filter(code_set=code_set).count() == 10


def test_the_migration_moves_clear_text_devices_and_codes_and_deletes_them(
    nurse: User,
) -> None:
    old = TOTPDevice.objects.create(
        user=nurse, name="Old phone", confirmed=True, drift=1
    )
    old_set = StaticDevice.objects.create(user=nurse, name="Backup", confirmed=True)
    StaticToken.objects.create(device=old_set, token="0a1b2c3d4e")
    StaticToken.objects.create(device=old_set, token="ffeeddccbb")

    move_second_factors.forwards(apps, None)

    assert not TOTPDevice.objects.exists()
    assert not StaticDevice.objects.exists()
    assert not StaticToken.objects.exists()
    moved = Authenticator.objects.get(user=nurse)
    assert (moved.name, moved.confirmed, moved.drift) == ("Old phone", True, 1)
    assert moved.bin_key == unhexlify(old.key)
    assert old.key not in moved.secret_encrypted
    code_set = RecoveryCodeSet.objects.get(user=nurse)
    assert code_set.verify_token("0A1B 2C3D 4E") is True
    assert code_set.verify_token("0a1b2c3d4e") is False  # used once
    assert RecoveryCode.objects.filter(code_set=code_set).count() == 1


def test_the_rotation_command_moves_every_secret_to_the_first_key_and_is_audited(
    nurse: User,
) -> None:
    with override_settings(OTP_SECRET_KEYS="old passphrase"):
        device = Authenticator.objects.create(user=nurse, name="Phone", confirmed=True)
        secret = device.bin_key
    with override_settings(OTP_SECRET_KEYS="new passphrase,old passphrase"):
        call_command("rotate_otp_secrets", stdout=StringIO())
    with override_settings(OTP_SECRET_KEYS="new passphrase"):
        assert Authenticator.objects.get(pk=device.pk).bin_key == secret
    assert AuditEvent.objects.get(
        action=AuditEvent.Action.OTP_SECRETS_ROTATED
    ).data == {"devices": 1}


def test_rotation_without_the_old_key_changes_nothing_and_fails(nurse: User) -> None:
    with override_settings(OTP_SECRET_KEYS="old passphrase"):
        device = Authenticator.objects.create(user=nurse, name="Phone", confirmed=True)
    with (
        override_settings(OTP_SECRET_KEYS="new passphrase"),
        pytest.raises(CommandError, match="Nothing changed"),
    ):
        call_command("rotate_otp_secrets", stdout=StringIO())
    assert Authenticator.objects.get(pk=device.pk).secret_encrypted == (
        device.secret_encrypted
    )
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.OTP_SECRETS_ROTATED
    ).exists()


def test_a_secret_under_a_missing_key_is_refused_and_logged_not_a_500(
    nurse: User, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(OTP_SECRET_KEYS="old passphrase"):
        device = Authenticator.objects.create(user=nurse, name="Phone", confirmed=True)
        code = f"{totp(device.bin_key):06d}"
    with override_settings(OTP_SECRET_KEYS="new passphrase"):
        assert Authenticator.objects.get(pk=device.pk).verify_token(code) is False
    assert "OTP_SECRET_KEYS" in caplog.text
    assert code not in caplog.text
