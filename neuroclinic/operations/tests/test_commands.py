"""`neuroclinic createadmin`: a new installation's clinic and first admin, who enrols two-factor at first sign-in."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from pytest_django.fixtures import Settings

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.operations import actions, startup

pytestmark = pytest.mark.django_db


def test_createadmin_makes_the_clinic_and_an_admin_who_must_enrol_two_factor(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "createadmin",
        organization="Harbor Ketamine Clinic (example)",
        username="harbor-admin",
        email="admin@example.com",
    )
    out = capsys.readouterr().out
    password = out.rsplit(": ", 1)[1].strip()

    user = User.objects.get(username="harbor-admin")
    assert user.organization == Organization.objects.get(
        name="Harbor Ketamine Clinic (example)"
    )
    assert [r.value for r in user.roles] == ["clinic_admin"]
    actions_recorded = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"accounts.user_created", "operations.clinic_set_up"} <= actions_recorded
    signed = client.post(
        "/accounts/sign-in/", {"username": "harbor-admin", "password": password}
    )
    assert signed["Location"] == "/accounts/sign-in/code/"
    enrol = client.get("/accounts/sign-in/code/").content.decode()
    assert "<svg" in enrol  # the QR code to enrol an authenticator app
    assert client.get("/staff/").status_code == 302  # not signed in until enrolled


def test_a_second_admin_by_command_is_refused_and_nothing_is_written() -> None:
    call_command(
        "createadmin",
        organization="Harbor (example)",
        username="a1",
        email="a1@example.com",
    )
    events = AuditEvent.objects.count()

    with pytest.raises(CommandError, match="already has a clinic admin"):
        call_command(
            "createadmin",
            organization="Harbor (example)",
            username="a2",
            email="a2@example.com",
        )

    assert not User.objects.filter(username="a2").exists()
    assert AuditEvent.objects.count() == events


def test_a_weak_password_is_refused_and_nothing_is_written() -> None:
    with pytest.raises(ValidationError):
        actions.set_up_clinic(
            organization_name="Weak (example)",
            username="weak",
            email="weak@example.com",
            first_name="",
            last_name="",
            password="password1",
        )

    assert not Organization.objects.filter(name="Weak (example)").exists()
    assert not User.objects.filter(username="weak").exists()


def test_static_files_are_collected_once_and_skipped_while_unchanged(
    settings: Settings, tmp_path: Path
) -> None:
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }

    first = startup.prepare(write=lambda line: None, static_only=True)
    second = startup.prepare(write=lambda line: None, static_only=True)

    assert [name for name, _ in first.steps] == ["Collecting static files"]
    assert second.steps == []
    assert second.skipped == ["static files (unchanged)"]
    assert (tmp_path / "static" / "css" / "app.css").exists()
