"""The demo clinic: synthetic staff, locations and patients, loaded once."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.seals import verify_seals
from neuroclinic.audit.verify import verify_audit_chain
from neuroclinic.clinics.demo import (
    DEMO_ORGANIZATION,
    DEMO_PASSWORD,
    DEMO_STAFF,
    _demo_password_checks,
    demo_totp_key,
    load_demo,
)
from neuroclinic.clinics.models import Device, Location, Organization, Room
from neuroclinic.patients.models import Patient


def test_the_demo_has_one_user_per_role_each_with_a_confirmed_authenticator(
    db: None,
) -> None:
    organization = load_demo(patient_count=5)

    staff = list(User.objects.filter(organization=organization))
    assert len(staff) == len(Role)
    assert sorted(role for user in staff for role in user.roles) == sorted(Role)
    for user in staff:
        assert len(user.roles) == 1
        assert user.check_password(DEMO_PASSWORD)
        assert user.email.endswith("@example.com")
        device = Authenticator.objects.get(user=user)
        assert device.confirmed is True
        assert device.bin_key.hex() == demo_totp_key(user.username)
        assert demo_totp_key(user.username) not in device.secret_encrypted
    assert {u.username for u in staff} == set(DEMO_STAFF)


def test_the_demo_has_two_locations_with_rooms_and_devices(db: None) -> None:
    organization = load_demo(patient_count=5)

    locations = list(Location.objects.filter(organization=organization))
    assert len(locations) == 2
    for location in locations:
        rooms = Room.objects.filter(location=location)
        devices = Device.objects.filter(location=location)
        assert rooms.filter(kind=Room.Kind.INFUSION).exists()
        assert rooms.filter(kind=Room.Kind.TMS).exists()
        assert devices.filter(kind=Device.Kind.INFUSION_PUMP).exists()
        assert devices.filter(kind=Device.Kind.TMS_UNIT).exists()
        # Every device sits in a room at its own location.
        assert all(d.room is None or d.room.location_id == location.pk for d in devices)
        assert location.hours.exists()


def test_the_demo_patients_are_synthetic_and_the_audit_chain_verifies(
    db: None,
) -> None:
    organization = load_demo(patient_count=5)

    patients = list(Patient.objects.filter(organization=organization))
    # The five asked for, and the calendar's patient waiting for a series to be booked.
    assert len(patients) == 6
    assert [p.family_name for p in patients if p.family_name == "Seriesdemo"] == [
        "Seriesdemo"
    ]
    assert all(p.email.endswith("example.com") for p in patients)
    assert all(p.phone.startswith("555-01") for p in patients)
    assert len({p.mrn for p in patients}) == 6
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.PATIENT_REGISTERED, organization=organization
        ).count()
        == 6
    )
    assert verify_audit_chain().ok


def test_loading_the_demo_twice_is_refused_and_adds_nothing(db: None) -> None:
    load_demo(patient_count=2)
    counts = (
        Organization.objects.count(),
        User.objects.count(),
        Patient.objects.count(),
        AuditEvent.objects.count(),
    )

    with pytest.raises(ValueError, match="already loaded"):
        load_demo(patient_count=2)

    assert (
        Organization.objects.count(),
        User.objects.count(),
        Patient.objects.count(),
        AuditEvent.objects.count(),
    ) == counts


def test_the_demo_command_loads_the_clinic_and_says_so(db: None) -> None:
    out = StringIO()

    call_command("demo", "--patients", "3", stdout=out)

    organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    # The three asked for and the calendar's series patient; the message counts them all.
    assert Patient.objects.filter(organization=organization).count() == 4
    assert "4 synthetic patients" in out.getvalue()
    # Every record the demo wrote (some backdated with update()) is sealed as it stands.
    assert verify_seals() == []


def test_the_demo_command_refuses_a_second_load(db: None) -> None:
    call_command("demo", "--patients", "0", stdout=StringIO())

    with pytest.raises(CommandError, match="already loaded"):
        call_command("demo", "--patients", "0", stdout=StringIO())

    assert Organization.objects.filter(name=DEMO_ORGANIZATION).count() == 1


def test_the_demo_command_refuses_a_negative_patient_count(db: None) -> None:
    with pytest.raises(CommandError, match="zero or more"):
        call_command("demo", "--patients", "-1", stdout=StringIO())

    assert not Organization.objects.exists()
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_demo_command_puts_its_sites_in_the_zone_asked_for(db: None) -> None:
    call_command(
        "demo", "--patients", "0", "--time-zone", "Etc/GMT-5", stdout=StringIO()
    )

    assert set(Location.objects.values_list("time_zone", flat=True)) == {"Etc/GMT-5"}


def test_the_demo_command_refuses_an_unknown_time_zone(db: None) -> None:
    with pytest.raises(CommandError, match="not a time zone name"):
        call_command(
            "demo", "--patients", "0", "--time-zone", "Mars/Olympus", stdout=StringIO()
        )

    assert not Organization.objects.exists()


def test_the_demo_checks_its_one_password_hash_once_per_password(
    db: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.contrib.auth.hashers import Argon2PasswordHasher

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    verified: list[str] = []
    real_verify = Argon2PasswordHasher.verify

    def counting_verify(self: Any, password: str, encoded: str) -> bool:
        verified.append(password)
        return bool(real_verify(self, password, encoded))

    monkeypatch.setattr(Argon2PasswordHasher, "verify", counting_verify)
    with _demo_password_checks():
        user = User(username="signer")
        user.set_password(DEMO_PASSWORD)
        for _ in range(3):
            assert user.check_password(DEMO_PASSWORD)
            assert not user.check_password("not-the-password")
    # Each (password, hash) pair is worked out once, and the answer still differs.
    assert sorted(verified) == sorted([DEMO_PASSWORD, "not-the-password"])
    assert user.password.startswith("argon2$")
    # Outside the demo every check is done again.
    assert user.check_password(DEMO_PASSWORD)
    assert len(verified) == 3


def test_the_demo_staff_share_one_hash_of_the_published_password(db: None) -> None:
    organization = load_demo(patient_count=1)

    hashes = set(
        User.objects.filter(organization=organization).values_list(
            "password", flat=True
        )
    )
    assert len(hashes) == 1


def test_the_demo_site_and_billing_give_the_main_locations_address_and_hours(
    db: None,
) -> None:
    from neuroclinic.billing.models import BillingIdentity
    from neuroclinic.site.models import SiteSettings

    organization = load_demo(patient_count=1)

    main = Location.objects.get(organization=organization, name="Lakeside Main (demo)")
    town = f"{main.city}, {main.state} {main.postal_code}"
    site = SiteSettings.objects.get(organization=organization)
    # The footer's address is the one the contact page lists for the main location.
    assert site.address.splitlines() == [main.address_line1, town]
    assert (site.phone, site.email) == (organization.phone, organization.email)
    identity = BillingIdentity.objects.get(organization=organization)
    assert identity.address.startswith(f"{main.address_line1}, {town}")
    # The footer's hours are the locations' opening hours (weekdays only).
    hours = list(main.hours.order_by("weekday"))
    assert [h.weekday for h in hours] == [0, 1, 2, 3, 4]
    assert {(h.opens_at.hour, h.closes_at.hour) for h in hours} == {(8, 17)}
    assert site.hours == "Monday to Friday: 8 a.m. to 5 p.m."
