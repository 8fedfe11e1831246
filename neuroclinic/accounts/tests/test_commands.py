"""The `totp` support command: prints a user's current code, and is audited."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp

from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.audit.models import AuditEvent


def current_code(device: Authenticator) -> str:
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift,
    )
    return f"{value:0{device.digits}d}"


def test_totp_prints_the_current_code_and_records_that_it_was_shown(
    nurse: User,
) -> None:
    device = Authenticator.objects.create(user=nurse, name="Phone", confirmed=True)
    out, err = StringIO(), StringIO()

    before = current_code(device)
    call_command("totp", "nurse", stdout=out, stderr=err)
    after = current_code(device)

    code = out.getvalue().strip()
    assert len(code) == 6
    assert code.isdigit()
    assert code in {before, after}  # the 30-second step may turn over mid-test
    assert "valid for about" in err.getvalue()
    assert device.verify_token(code)
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOTP_SHOWN)
    assert event.actor is None
    assert event.actor_username == "(command line)"
    assert event.subject_id == str(nurse.uuid)
    assert code not in str(event.data)


def test_totp_for_a_user_without_a_device_fails_and_records_nothing(
    nurse: User,
) -> None:
    with pytest.raises(CommandError, match="has not set up two-factor"):
        call_command("totp", "nurse", stdout=StringIO(), stderr=StringIO())

    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TOTP_SHOWN).exists()


def test_totp_ignores_a_device_still_being_enrolled(nurse: User) -> None:
    Authenticator.objects.create(user=nurse, name="Phone", confirmed=False)

    with pytest.raises(CommandError, match="has not set up two-factor"):
        call_command("totp", "nurse", stdout=StringIO(), stderr=StringIO())

    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TOTP_SHOWN).exists()


def test_totp_for_an_unknown_user_fails_and_records_nothing(db: None) -> None:
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("totp", "ghost", stdout=StringIO(), stderr=StringIO())

    assert not AuditEvent.objects.exists()
