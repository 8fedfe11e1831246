"""Signing in: a password, then a second factor, with lockout, enrolment and recovery codes.

These tests drive the real sign-in views with real TOTP codes (computed from the
device's key with django_otp.oath.totp), so they cover what a browser does.
"""

import time
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from pytest_django.fixtures import Settings

from conftest import TEST_PASSWORD, login
from neuroclinic.accounts import actions, otp_secrets
from neuroclinic.accounts.models import (
    Authenticator,
    RecoveryCode,
    RecoveryCodeSet,
    User,
)
from neuroclinic.accounts.views import (
    FAILED_MESSAGE,
    PENDING_AT,
    PENDING_SECONDS,
    PENDING_USER,
)
from neuroclinic.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

SIGN_IN = "/accounts/sign-in/"
CODE_STEP = "/accounts/sign-in/code/"
SIGN_OUT = "/accounts/sign-out/"
HOME = "/staff/"

Action = AuditEvent.Action


@pytest.fixture(autouse=True)
def _no_device_throttling(settings: Settings) -> None:
    # django-otp slows a device down after each wrong code (1 s, 2 s, 4 s...).
    # That is its own feature; these tests cover the app's lockout, and would
    # otherwise have to sleep between a wrong code and a right one.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(device: Authenticator, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + steps_ahead,
    )
    return f"{value:0{device.digits}d}"


def wrong_code_for(device: Authenticator) -> str:
    # Any code outside the window the device accepts (now, give or take a step).
    accepted = {code_for(device, n) for n in range(-2, 3)}
    return next(
        c
        for c in ("000000", "111111", "222222", "333333", "444444", "555555", "666666")
        if c not in accepted
    )


def authenticator(user: User) -> Authenticator:
    device: Authenticator = Authenticator.objects.create(
        user=user, name="Phone", confirmed=True
    )
    return device


def password_step(
    client: Client,
    username: str,
    password: str = TEST_PASSWORD,
    *,
    next_url: str | None = None,
) -> "TestResponse":
    url = SIGN_IN + (f"?{urlencode({'next': next_url})}" if next_url else "")
    return client.post(url, {"username": username, "password": password})


def code_step(client: Client, code: str) -> "TestResponse":
    return client.post(CODE_STEP, {"code": code})


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return None if value is None else str(value)


def is_signed_in(client: Client) -> bool:
    """Whether the next request is treated as signed in (session and second factor)."""
    return client.get(HOME).status_code == 200


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


# The two steps


def test_a_password_then_a_code_signs_in_and_records_the_method(
    client: Client, nurse: User
) -> None:
    device = authenticator(nurse)

    first = password_step(client, "nurse")

    assert first.status_code == 302
    assert first["Location"] == CODE_STEP
    assert signed_in_user_id(client) is None  # the password alone signs nobody in

    second = code_step(client, code_for(device))

    assert second.status_code == 302
    assert second["Location"] == HOME
    assert signed_in_user_id(client) == str(nurse.pk)
    assert is_signed_in(client)
    event = AuditEvent.objects.get(action=Action.SIGNED_IN)
    assert event.actor == nurse
    assert event.subject_id == str(nurse.uuid)
    assert event.data == {"method": "totp"}
    assert events(Action.SIGN_IN_FAILED) == []


def test_a_successful_sign_in_resets_the_failure_counter(
    client: Client, nurse: User
) -> None:
    device = authenticator(nurse)
    for _ in range(settings.LOCKOUT_THRESHOLD - 1):
        password_step(client, "nurse", "not-the-password")
    nurse.refresh_from_db()
    assert nurse.failed_sign_in_count == settings.LOCKOUT_THRESHOLD - 1

    password_step(client, "nurse")
    code_step(client, code_for(device))

    nurse.refresh_from_db()
    assert nurse.failed_sign_in_count == 0
    assert nurse.locked_until is None
    assert AuditEvent.objects.get(action=Action.SIGNED_IN).actor == nurse


def test_a_wrong_password_shows_the_generic_error_and_records_a_failure(
    client: Client, nurse: User
) -> None:
    authenticator(nurse)

    response = password_step(client, "nurse", "not-the-password")

    assert response.status_code == 200
    assert FAILED_MESSAGE in response.content.decode()
    assert PENDING_USER not in client.session
    nurse.refresh_from_db()
    assert nurse.failed_sign_in_count == 1
    event = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert event.actor == nurse
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert event.data == {"stage": "password"}
    assert "not-the-password" not in str(event.data)
    assert events(Action.SIGNED_IN) == []


def test_an_unknown_username_gets_the_same_error_and_a_failure_with_no_actor(
    client: Client, db: None
) -> None:
    response = password_step(client, "nobody-by-this-name")

    assert response.status_code == 200
    assert FAILED_MESSAGE in response.content.decode()
    assert PENDING_USER not in client.session
    event = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert event.actor is None
    assert event.actor_username == "nobody-by-this-name"
    assert event.data == {"stage": "password", "known_user": False}


def test_a_deactivated_account_with_the_right_password_gets_the_generic_error(
    client: Client, nurse: User
) -> None:
    authenticator(nurse)
    User.objects.filter(pk=nurse.pk).update(is_active=False)

    response = password_step(client, "nurse")

    assert response.status_code == 200
    assert FAILED_MESSAGE in response.content.decode()
    assert PENDING_USER not in client.session
    assert AuditEvent.objects.get(action=Action.SIGN_IN_FAILED).actor == nurse
    assert events(Action.SIGNED_IN) == []


def test_a_wrong_code_is_refused_recorded_and_may_be_retried(
    client: Client, nurse: User
) -> None:
    device = authenticator(nurse)
    password_step(client, "nurse")

    refused = code_step(client, wrong_code_for(device))

    assert refused.status_code == 200
    assert "code" in refused.context["form"].errors
    assert signed_in_user_id(client) is None
    event = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert event.actor == nurse
    assert event.data == {"stage": "two_factor"}
    assert events(Action.SIGNED_IN) == []

    accepted = code_step(client, code_for(device))

    assert accepted.status_code == 302
    assert signed_in_user_id(client) == str(nurse.pk)


def test_the_same_code_cannot_be_used_twice(client: Client, nurse: User) -> None:
    device = authenticator(nurse)
    code = code_for(device)
    password_step(client, "nurse")
    code_step(client, code)
    client.post(SIGN_OUT)

    password_step(client, "nurse")
    replay = code_step(client, code)

    assert replay.status_code == 200
    assert signed_in_user_id(client) is None
    assert len(events(Action.SIGNED_IN)) == 1
    assert AuditEvent.objects.get(action=Action.SIGN_IN_FAILED).data == {
        "stage": "two_factor"
    }


def test_the_code_step_without_a_password_first_goes_back_to_sign_in(
    client: Client, db: None
) -> None:
    response = client.get(CODE_STEP)

    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("seconds_since_password", "signs_in"),
    [
        (PENDING_SECONDS - 10, True),
        (PENDING_SECONDS + 1, False),
    ],
)
def test_the_code_step_expires_five_minutes_after_the_password(
    client: Client, nurse: User, seconds_since_password: int, signs_in: bool
) -> None:
    device = authenticator(nurse)
    password_step(client, "nurse")
    session = client.session
    session[PENDING_AT] = time.time() - seconds_since_password
    session.save()

    response = code_step(client, code_for(device))

    assert response.status_code == 302
    if signs_in:
        assert response["Location"] == HOME
        assert signed_in_user_id(client) == str(nurse.pk)
        assert len(events(Action.SIGNED_IN)) == 1
    else:
        assert response["Location"] == SIGN_IN
        assert signed_in_user_id(client) is None
        assert PENDING_USER not in client.session
        assert events(Action.SIGNED_IN) == []
        device.refresh_from_db()
        assert device.last_t == -1  # the code was not even checked, let alone spent


def test_a_signed_in_user_visiting_sign_in_goes_home(
    client: Client, nurse: User
) -> None:
    login(client, nurse)

    response = client.get(SIGN_IN)

    assert response.status_code == 302
    assert response["Location"] == HOME


# Lockout


def test_five_wrong_passwords_lock_the_account_for_lockout_minutes(
    client: Client, nurse: User, settings: Settings
) -> None:
    settings.LOCKOUT_MINUTES = 7
    authenticator(nurse)
    before = timezone.now()

    for _ in range(settings.LOCKOUT_THRESHOLD - 1):
        response = password_step(client, "nurse", "not-the-password")
        assert FAILED_MESSAGE in response.content.decode()
    assert events(Action.LOCKED_OUT) == []
    last = password_step(client, "nurse", "not-the-password")

    assert settings.LOCKOUT_THRESHOLD == 5
    assert "locked" in last.content.decode()
    nurse.refresh_from_db()
    assert nurse.is_locked()
    assert nurse.locked_until is not None
    assert (
        before + timedelta(minutes=7)
        <= nurse.locked_until
        <= timezone.now() + timedelta(minutes=7)
    )
    assert len(events(Action.SIGN_IN_FAILED)) == 5
    locked = AuditEvent.objects.get(action=Action.LOCKED_OUT)
    assert locked.actor == nurse
    assert locked.outcome == AuditEvent.Outcome.DENIED


def test_wrong_passwords_and_wrong_codes_count_together_towards_lockout(
    client: Client, nurse: User
) -> None:
    device = authenticator(nurse)
    for _ in range(3):
        password_step(client, "nurse", "not-the-password")
    password_step(client, "nurse")
    code_step(client, wrong_code_for(device))

    response = code_step(client, wrong_code_for(device))

    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    assert PENDING_USER not in client.session
    assert signed_in_user_id(client) is None
    nurse.refresh_from_db()
    assert nurse.is_locked()
    stages = [e.data["stage"] for e in events(Action.SIGN_IN_FAILED)]
    assert stages == ["password"] * 3 + ["two_factor"] * 2
    assert AuditEvent.objects.get(action=Action.LOCKED_OUT).actor == nurse
    assert events(Action.SIGNED_IN) == []


def test_a_locked_account_is_refused_even_with_the_right_password(
    client: Client, nurse: User
) -> None:
    device = authenticator(nurse)
    locked_until = timezone.now() + timedelta(minutes=10)
    User.objects.filter(pk=nurse.pk).update(locked_until=locked_until)

    response = password_step(client, "nurse")
    code_step(client, code_for(device))

    assert response.status_code == 200
    assert "locked" in response.content.decode()
    assert FAILED_MESSAGE not in response.content.decode()
    assert PENDING_USER not in client.session
    assert signed_in_user_id(client) is None
    still_locked = User.objects.get(pk=nurse.pk)
    assert still_locked.locked_until == locked_until  # neither lifted nor extended
    assert still_locked.failed_sign_in_count == 0
    assert events(Action.SIGNED_IN) == []
    assert events(Action.LOCKED_OUT) == []
    device.refresh_from_db()
    assert device.last_t == -1  # the code step never checked the code


def test_a_lockout_ends_after_lockout_minutes(client: Client, nurse: User) -> None:
    device = authenticator(nurse)
    for _ in range(settings.LOCKOUT_THRESHOLD):
        password_step(client, "nurse", "not-the-password")
    nurse.refresh_from_db()
    assert nurse.locked_until is not None
    # Time passes: the lock's end is now behind us.
    User.objects.filter(pk=nurse.pk).update(
        locked_until=nurse.locked_until
        - timedelta(minutes=settings.LOCKOUT_MINUTES, seconds=1)
    )

    password_step(client, "nurse")
    response = code_step(client, code_for(device))

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(nurse.pk)
    unlocked = User.objects.get(pk=nurse.pk)
    assert unlocked.locked_until is None
    assert unlocked.failed_sign_in_count == 0
    assert AuditEvent.objects.get(action=Action.SIGNED_IN).actor == nurse


# Enrolment and recovery codes


def test_first_sign_in_without_a_device_shows_enrolment_with_a_qr_code(
    client: Client, nurse: User
) -> None:
    password_step(client, "nurse")

    response = client.get(CODE_STEP)

    assert response.status_code == 200
    assert "accounts/enrol.html" in [t.name for t in response.templates]
    assert "<svg" in response.content.decode()
    device = Authenticator.objects.get(user=nurse)
    assert device.confirmed is False
    assert signed_in_user_id(client) is None
    assert events(Action.TWO_FACTOR_ENROLLED) == []


def test_a_wrong_enrolment_code_is_refused_and_nothing_is_confirmed(
    client: Client, nurse: User
) -> None:
    password_step(client, "nurse")
    client.get(CODE_STEP)
    device = Authenticator.objects.get(user=nurse)

    response = code_step(client, wrong_code_for(device))

    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    device.refresh_from_db()
    assert device.confirmed is False
    assert not RecoveryCodeSet.objects.filter(user=nurse).exists()
    assert signed_in_user_id(client) is None
    assert AuditEvent.objects.get(action=Action.SIGN_IN_FAILED).data == {
        "stage": "enrolment"
    }
    assert events(Action.TWO_FACTOR_ENROLLED) == []
    assert events(Action.SIGNED_IN) == []


def test_the_right_enrolment_code_confirms_the_device_and_shows_ten_recovery_codes_once(
    client: Client, nurse: User
) -> None:
    password_step(client, "nurse")
    client.get(CODE_STEP)
    device = Authenticator.objects.get(user=nurse)

    response = code_step(client, code_for(device))

    assert response.status_code == 200
    assert "accounts/recovery_codes.html" in [t.name for t in response.templates]
    codes = response.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    page = response.content.decode()
    assert all(code in page for code in codes)
    # Only digests are kept: no code is in the database as typed.
    stored = set(
        RecoveryCode.objects.filter(code_set__user=nurse).values_list(
            "digest", flat=True
        )
    )
    assert stored == {otp_secrets.recovery_code_digest(c) for c in codes}
    assert not stored & {otp_secrets.normalise_recovery_code(c) for c in codes}
    assert all(len(otp_secrets.normalise_recovery_code(c)) == 16 for c in codes)
    device.refresh_from_db()
    assert device.confirmed is True
    assert signed_in_user_id(client) == str(nurse.pk)
    assert AuditEvent.objects.get(action=Action.TWO_FACTOR_ENROLLED).actor == nurse
    assert AuditEvent.objects.get(action=Action.SIGNED_IN).data == {
        "method": "totp_enrolment"
    }
    assert not any(
        code in str(e.data) for e in AuditEvent.objects.all() for code in codes
    )

    # Shown once: the enrolment page cannot be reached again to show them.
    again = client.get(CODE_STEP)
    assert again.status_code == 302
    assert not any(code in client.get(HOME).content.decode() for code in codes)


def test_a_recovery_code_signs_in_once_and_cannot_be_reused(
    client: Client, nurse: User
) -> None:
    codes = actions.confirm_totp_enrolment(
        nurse, Authenticator.objects.create(user=nurse, name="Phone", confirmed=False)
    )
    password_step(client, "nurse")

    response = code_step(client, codes[0])

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(nurse.pk)
    assert AuditEvent.objects.get(action=Action.SIGNED_IN).data == {
        "method": "recovery_code"
    }
    used = AuditEvent.objects.get(action=Action.RECOVERY_CODE_USED)
    assert used.actor == nurse
    assert used.data == {"codes_left": 9}
    assert not RecoveryCode.objects.filter(
        digest=otp_secrets.recovery_code_digest(codes[0])
    ).exists()
    assert RecoveryCode.objects.filter(code_set__user=nurse).count() == 9

    client.post(SIGN_OUT)
    password_step(client, "nurse")
    reused = code_step(client, codes[0])

    assert reused.status_code == 200
    assert signed_in_user_id(client) is None
    assert len(events(Action.SIGNED_IN)) == 1
    assert len(events(Action.RECOVERY_CODE_USED)) == 1
    assert AuditEvent.objects.get(action=Action.SIGN_IN_FAILED).data == {
        "stage": "two_factor"
    }


def test_a_recovery_code_is_accepted_in_capitals_and_with_spaces(
    client: Client, nurse: User
) -> None:
    codes = actions.confirm_totp_enrolment(
        nurse, Authenticator.objects.create(user=nurse, name="Phone", confirmed=False)
    )
    password_step(client, "nurse")
    typed = codes[3].upper().replace("-", " ")

    response = code_step(client, typed)

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(nurse.pk)
    assert not RecoveryCode.objects.filter(
        digest=otp_secrets.recovery_code_digest(codes[3])
    ).exists()


# Sessions


def test_a_session_without_a_second_factor_counts_as_signed_out(
    client: Client, admin: User
) -> None:
    client.force_login(admin)

    home = client.get(HOME)
    staff = client.get("/accounts/staff/")
    sign_in_page = client.get(SIGN_IN)

    assert home.status_code == 302
    assert home["Location"] == f"{SIGN_IN}?next={HOME}"
    assert staff.status_code == 302
    assert staff["Location"].startswith(SIGN_IN)
    assert sign_in_page.status_code == 200


@pytest.mark.parametrize("next_url", ["/clinic/", "/accounts/staff/?page=2"])
def test_next_is_honoured_for_a_path_on_this_site(
    client: Client, admin: User, next_url: str
) -> None:
    device = authenticator(admin)
    password_step(client, "admin", next_url=next_url)

    response = code_step(client, code_for(device))

    assert response.status_code == 302
    assert response["Location"] == next_url


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "https:///evil.example/",
    ],
)
def test_next_to_another_site_is_ignored(
    client: Client, nurse: User, next_url: str
) -> None:
    device = authenticator(nurse)
    password_step(client, "nurse", next_url=next_url)

    response = code_step(client, code_for(device))

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert signed_in_user_id(client) == str(nurse.pk)


def test_signing_out_records_the_event_and_ends_the_session(
    client: Client, nurse: User
) -> None:
    login(client, nurse)

    response = client.post(SIGN_OUT)

    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    assert signed_in_user_id(client) is None
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(action=Action.SIGNED_OUT)
    assert event.actor == nurse


def test_signing_out_needs_a_post(client: Client, nurse: User) -> None:
    login(client, nurse)

    response = client.get(SIGN_OUT)

    assert response.status_code == 405
    assert is_signed_in(client)
    assert events(Action.SIGNED_OUT) == []


def test_the_idle_timeout_is_the_session_age_and_only_activity_restarts_it() -> None:
    assert settings.SESSION_COOKIE_AGE == settings.IDLE_TIMEOUT_MINUTES * 60
    # IdleTimeoutMiddleware touches the session on every request but a poll.
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert (
        "neuroclinic.accounts.middleware.IdleTimeoutMiddleware" in settings.MIDDLEWARE
    )


def _session_row(client: Client) -> Session:
    return Session.objects.get(
        session_key=client.cookies[settings.SESSION_COOKIE_NAME].value
    )


def test_an_idle_session_past_its_expiry_is_sent_to_sign_in(
    client: Client, nurse: User
) -> None:
    login(client, nurse)
    assert is_signed_in(client)
    Session.objects.filter(pk=_session_row(client).pk).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"] == f"{SIGN_IN}?next={HOME}"


def test_each_request_pushes_the_idle_expiry_back(client: Client, nurse: User) -> None:
    login(client, nurse)
    Session.objects.filter(pk=_session_row(client).pk).update(
        expire_date=timezone.now() + timedelta(seconds=30)
    )

    response = client.get(HOME)

    assert response.status_code == 200
    expected = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs(_session_row(client).expire_date - expected) < timedelta(seconds=30)


def test_an_attempt_on_a_locked_account_is_refused_uncounted_and_recorded(
    client: Client, nurse: User
) -> None:
    nurse.locked_until = timezone.now() + timedelta(minutes=10)
    nurse.save(update_fields=["locked_until"])

    response = password_step(client, "nurse", TEST_PASSWORD)

    assert "locked" in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.failed_sign_in_count == 0
    [event] = events(AuditEvent.Action.SIGN_IN_FAILED)
    assert event.outcome == AuditEvent.Outcome.DENIED
    assert event.data == {"stage": "password", "locked": True}


def test_a_code_during_django_otps_slowdown_is_not_counted_as_a_failure(
    client: Client, nurse: User, settings: Settings
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    device = authenticator(nurse)
    password_step(client, "nurse", TEST_PASSWORD)
    code_step(client, wrong_code_for(device))
    failures = nurse.__class__.objects.get(pk=nurse.pk).failed_sign_in_count

    response = code_step(client, code_for(device))

    assert "wait a few seconds" in response.content.decode()
    assert User.objects.get(pk=nurse.pk).failed_sign_in_count == failures
