"""Clinic settings: the organization, its locations, rooms and devices (clinic admins only)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import (
    EVERYONE,
    NON_ADMINS,
    assert_sent_to_sign_in,
    expected_status,
    login,
)
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Device, Location, Organization, Room

Action = AuditEvent.Action


def make_location(organization: Organization, name: str = "Main") -> Location:
    return Location.objects.create(
        organization=organization,
        name=name,
        address_line1="1 Example Street",
        city="Springfield",
        state="IL",
        postal_code="62701",
    )


def make_room(location: Location, name: str = "Infusion 1") -> Room:
    return Room.objects.create(location=location, name=name, kind=Room.Kind.INFUSION)


def make_device(location: Location, room: Room | None = None) -> Device:
    return Device.objects.create(
        location=location, room=room, kind=Device.Kind.INFUSION_PUMP, name="Pump 1"
    )


@pytest.fixture
def location(organization: Organization) -> Location:
    return make_location(organization)


@pytest.fixture
def room(location: Location) -> Room:
    return make_room(location)


@pytest.fixture
def elsewhere_location(other_organization: Organization) -> Location:
    return make_location(other_organization, "Elsewhere Main")


@pytest.fixture
def elsewhere_room(elsewhere_location: Location) -> Room:
    return make_room(elsewhere_location, "Elsewhere Infusion")


def location_form(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Riverside",
        "address_line1": "2 Sample Road",
        "city": "Shelbyville",
        "state": "IL",
        "postal_code": "62565",
        "time_zone": "America/Chicago",
        "is_active": "on",
    } | overrides


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


CLINIC_ACTIONS = [
    Action.CLINIC_UPDATED,
    Action.LOCATION_SAVED,
    Action.ROOM_SAVED,
    Action.DEVICE_SAVED,
]


def no_clinic_events() -> bool:
    return not AuditEvent.objects.filter(action__in=CLINIC_ACTIONS).exists()


# Who may change clinic settings


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize(
    "path",
    [
        "/clinic/",
        "/clinic/location/new/",
        "/clinic/room/new/",
        "/clinic/device/new/",
        "/clinic/location/{location}/",
        "/clinic/room/{room}/",
    ],
)
def test_only_clinic_admins_open_clinic_settings(
    as_persona: Callable[[str], Client],
    location: Location,
    room: Room,
    persona: str,
    path: str,
) -> None:
    client = as_persona(persona)

    response = client.get(path.format(location=location.uuid, room=room.uuid))

    assert response.status_code == expected_status(persona, {"admin"})
    if persona == "anonymous":
        assert_sent_to_sign_in(response)


@pytest.mark.parametrize("persona", ["anonymous", *NON_ADMINS])
def test_a_refused_settings_change_writes_nothing(
    as_persona: Callable[[str], Client],
    organization: Organization,
    location: Location,
    persona: str,
) -> None:
    client = as_persona(persona)

    saved = client.post("/clinic/", {"name": "Hijacked", "mrn_prefix": "HJ"})
    added = client.post("/clinic/location/new/", location_form())
    edited = client.post(
        f"/clinic/location/{location.uuid}/", location_form(name="Renamed")
    )

    expected = expected_status(persona, set())
    assert (saved.status_code, added.status_code, edited.status_code) == (expected,) * 3
    organization.refresh_from_db()
    assert organization.name == "Lakeside Test Clinic"
    location.refresh_from_db()
    assert location.name == "Main"
    assert Location.objects.count() == 1
    assert no_clinic_events()


# The organization


def test_saving_the_organization_records_the_changed_fields(
    client: Client, admin: User, organization: Organization
) -> None:
    login(client, admin)

    response = client.post(
        "/clinic/",
        {
            "name": "Lakeside Psychiatry",
            "phone": "555-0123",
            "email": "",
            "website": "",
            "mrn_prefix": "LK",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/clinic/"
    organization.refresh_from_db()
    assert (organization.name, organization.phone) == (
        "Lakeside Psychiatry",
        "555-0123",
    )
    event = AuditEvent.objects.get(action=Action.CLINIC_UPDATED)
    assert event.actor == admin
    assert event.organization_id == organization.pk
    assert event.subject_id == str(organization.uuid)
    assert event.data == {"created": False, "fields": ["name", "phone"]}


def test_an_invalid_organization_form_is_a_field_error_and_saves_nothing(
    client: Client, admin: User, organization: Organization
) -> None:
    login(client, admin)

    response = client.post(
        "/clinic/", {"name": "", "mrn_prefix": "LK", "website": "not a url"}
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "website"}
    organization.refresh_from_db()
    assert organization.name == "Lakeside Test Clinic"
    assert no_clinic_events()


def test_the_settings_page_lists_only_this_organizations_locations(
    client: Client, admin: User, location: Location, elsewhere_location: Location
) -> None:
    login(client, admin)

    response = client.get("/clinic/")

    assert [loc.name for loc in response.context["locations"]] == ["Main"]
    assert "Elsewhere Main" not in response.content.decode()


# Locations


def test_adding_a_location_puts_it_in_the_admins_organization(
    client: Client, admin: User, organization: Organization
) -> None:
    login(client, admin)

    response = client.post("/clinic/location/new/", location_form())

    assert response.status_code == 302
    added = Location.objects.get()
    assert added.organization == organization
    assert (added.name, added.time_zone) == ("Riverside", "America/Chicago")
    event = AuditEvent.objects.get(action=Action.LOCATION_SAVED)
    assert event.actor == admin
    assert event.subject_id == str(added.uuid)
    assert event.data["created"] is True
    assert "time_zone" in event.data["fields"]


@pytest.mark.parametrize(
    "time_zone", ["Mars/Olympus_Mons", "EST5EDT6", "", "america/chicago"]
)
def test_a_location_with_an_invalid_time_zone_is_a_field_error_and_writes_nothing(
    client: Client, admin: User, time_zone: str
) -> None:
    login(client, admin)

    response = client.post("/clinic/location/new/", location_form(time_zone=time_zone))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["time_zone"]
    assert not Location.objects.exists()
    assert no_clinic_events()


def test_editing_a_location_records_what_changed(
    client: Client, admin: User, location: Location
) -> None:
    login(client, admin)

    client.post(
        f"/clinic/location/{location.uuid}/",
        location_form(
            name="Main",
            address_line1=location.address_line1,
            city=location.city,
            state=location.state,
            postal_code=location.postal_code,
            time_zone="America/Denver",
        ),
    )

    location.refresh_from_db()
    assert location.time_zone == "America/Denver"
    assert Location.objects.count() == 1
    event = AuditEvent.objects.get(action=Action.LOCATION_SAVED)
    assert event.data == {"created": False, "fields": ["time_zone"]}


# Rooms and devices


def test_adding_a_room_records_it(
    client: Client, admin: User, location: Location
) -> None:
    login(client, admin)

    response = client.post(
        "/clinic/room/new/",
        {"location": location.pk, "name": "TMS 1", "kind": "tms", "is_active": "on"},
    )

    assert response.status_code == 302
    added = Room.objects.get(name="TMS 1")
    assert (added.location, added.kind) == (location, Room.Kind.TMS)
    event = AuditEvent.objects.get(action=Action.ROOM_SAVED)
    assert event.subject_id == str(added.uuid)
    assert event.data["created"] is True


def test_a_room_name_already_used_at_the_location_is_refused(
    client: Client, admin: User, room: Room
) -> None:
    login(client, admin)

    response = client.post(
        "/clinic/room/new/",
        {"location": room.location_id, "name": room.name, "kind": "consult"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert Room.objects.count() == 1
    assert no_clinic_events()


def test_a_room_at_another_organizations_location_is_refused(
    client: Client, admin: User, elsewhere_location: Location
) -> None:
    login(client, admin)

    response = client.post(
        "/clinic/room/new/",
        {"location": elsewhere_location.pk, "name": "Sneaky", "kind": "infusion"},
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["location"]
    assert not Room.objects.exists()
    assert no_clinic_events()


def test_a_device_in_another_organizations_room_is_refused(
    client: Client, admin: User, location: Location, elsewhere_room: Room
) -> None:
    login(client, admin)

    response = client.post(
        "/clinic/device/new/",
        {
            "location": location.pk,
            "room": elsewhere_room.pk,
            "kind": "monitor",
            "name": "Monitor 9",
        },
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["room"]
    assert not Device.objects.exists()
    assert no_clinic_events()


def test_a_device_in_a_room_at_a_different_location_is_refused(
    client: Client, admin: User, organization: Organization, room: Room
) -> None:
    annex = make_location(organization, "Annex")
    login(client, admin)

    response = client.post(
        "/clinic/device/new/",
        {"location": annex.pk, "room": room.pk, "kind": "monitor", "name": "Monitor 9"},
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["room"]
    assert not Device.objects.exists()
    assert no_clinic_events()


def test_adding_a_device_in_a_room_records_it(
    client: Client, admin: User, room: Room
) -> None:
    login(client, admin)

    response = client.post(
        "/clinic/device/new/",
        {
            "location": room.location_id,
            "room": room.pk,
            "kind": "infusion_pump",
            "name": "Pump 2",
            "serial_number": "SN-42",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    added = Device.objects.get()
    assert (added.room, added.location_id, added.serial_number) == (
        room,
        room.location_id,
        "SN-42",
    )
    event = AuditEvent.objects.get(action=Action.DEVICE_SAVED)
    assert event.actor == admin
    assert event.subject_id == str(added.uuid)


@pytest.mark.parametrize("kind", ["location", "room", "device"])
def test_another_organizations_location_room_or_device_is_not_found(
    client: Client, admin: User, elsewhere_room: Room, kind: str
) -> None:
    device = make_device(elsewhere_room.location, elsewhere_room)
    targets: dict[str, Location | Room | Device] = {
        "location": elsewhere_room.location,
        "room": elsewhere_room,
        "device": device,
    }
    target = targets[kind]
    login(client, admin)

    shown = client.get(f"/clinic/{kind}/{target.uuid}/")
    edited = client.post(f"/clinic/{kind}/{target.uuid}/", {"name": "Taken over"})

    assert (shown.status_code, edited.status_code) == (404, 404)
    target.refresh_from_db()
    assert target.name != "Taken over"
    assert no_clinic_events()


def test_an_unknown_kind_goes_back_to_settings(client: Client, admin: User) -> None:
    login(client, admin)

    response = client.get("/clinic/spaceship/new/")

    assert response.status_code == 302
    assert response["Location"] == "/clinic/"


def test_the_settings_page_costs_the_same_queries_however_many_locations(
    as_persona: Callable[[str], Client],
    organization: Organization,
    location: Location,
    django_assert_num_queries: Callable[[int], Any],
) -> None:
    client = as_persona("admin")
    client.get("/clinic/")  # the first request after sign-in warms the session

    with django_assert_num_queries(13):
        assert client.get("/clinic/").status_code == 200
    for n in range(4):
        extra = make_location(organization, f"Annex {n}")
        room = make_room(extra, f"Infusion {n}")
        make_device(extra, room)
        make_device(extra)
    with django_assert_num_queries(13):
        assert client.get("/clinic/").status_code == 200


# A TMS unit's maximum output (issue 10)


@pytest.mark.parametrize(("value", "saved"), [("80", 80), ("", 100), ("100", 100)])
def test_a_tms_units_maximum_output_is_saved(
    client: Client, admin: User, location: Location, value: str, saved: int
) -> None:
    login(client, admin)
    response = client.post(
        "/clinic/device/new/",
        {
            "location": location.pk,
            "kind": "tms_unit",
            "name": "TMS unit 1",
            "max_output_percent": value,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Device.objects.get().max_output_percent == saved


@pytest.mark.parametrize("value", ["0", "101", "-5", "eighty"])
def test_a_maximum_output_outside_1_to_100_is_a_field_error(
    client: Client, admin: User, location: Location, value: str
) -> None:
    login(client, admin)
    response = client.post(
        "/clinic/device/new/",
        {
            "location": location.pk,
            "kind": "tms_unit",
            "name": "TMS unit 1",
            "max_output_percent": value,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["max_output_percent"]
    assert not Device.objects.exists()
    assert no_clinic_events()
