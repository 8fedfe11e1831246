"""The devices API (issue 10): TMS units with their maximum output, read by the roles
that run or see TMS and the clinic admin, created and changed by the clinic admin
through the settings page's form rules; bad input is a 422 problem+json naming the
field with nothing written; another clinic's device is a 404; every write is audited."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.access import READ_DEVICES
from neuroclinic.clinics.models import Device, Location, Organization, Room

pytestmark = pytest.mark.django_db
Headers = Callable[[User], dict[str, str]]

READERS = frozenset().union(*(personas_with(c) for c in READ_DEVICES))
MANAGERS = personas_with(Capability.MANAGE_CLINIC)


def make_location(organization: Organization, name: str = "Lakeside") -> Location:
    return Location.objects.create(
        organization=organization,
        name=name,
        address_line1="1 Example Road",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone="America/Chicago",
    )


@pytest.fixture
def place(organization: Organization) -> Location:
    return make_location(organization)


@pytest.fixture
def unit(place: Location) -> Device:
    room = Room.objects.create(location=place, name="TMS 1", kind=Room.Kind.TMS)
    return Device.objects.create(
        location=place,
        room=room,
        kind=Device.Kind.TMS_UNIT,
        name="Unit A",
        max_output_percent=80,
    )


def headers_for(persona: str, request: pytest.FixtureRequest, bearer: Headers) -> Any:
    return {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))


def problem_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("persona", EVERYONE)
def test_read_access(
    persona: str,
    unit: Device,
    client: Client,
    request: pytest.FixtureRequest,
    bearer: Headers,
) -> None:
    headers = headers_for(persona, request, bearer)
    listed = client.get("/api/clinic/devices", headers=headers)
    one = client.get(f"/api/clinic/devices/{unit.uuid}", headers=headers)
    outsider_reads = "nurse" in READERS
    assert listed.status_code == expected_status(
        persona,
        READERS,
        anonymous=401,
        outsider=200 if outsider_reads else None,  # its own clinic's: none
    )
    assert one.status_code == expected_status(
        persona, READERS, anonymous=401, outsider=404 if outsider_reads else None
    )
    if listed.status_code == 200:
        ids = [d["id"] for d in listed.json()]
        assert ids == ([] if persona == "outsider" else [str(unit.uuid)])
    if one.status_code >= 400:
        assert one["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("persona", EVERYONE)
def test_write_access(
    persona: str,
    place: Location,
    unit: Device,
    client: Client,
    request: pytest.FixtureRequest,
    bearer: Headers,
) -> None:
    headers = headers_for(persona, request, bearer)
    body = {"location": str(place.uuid), "kind": "tms_unit", "name": "Unit B"}
    made = client.post(
        "/api/clinic/devices", body, content_type="application/json", headers=headers
    )
    changed = client.patch(
        f"/api/clinic/devices/{unit.uuid}",
        {"max_output_percent": 70},
        content_type="application/json",
        headers=headers,
    )
    assert made.status_code == expected_status(persona, MANAGERS, ok=201, anonymous=401)
    assert changed.status_code == expected_status(persona, MANAGERS, anonymous=401)
    unit.refresh_from_db()
    assert unit.max_output_percent == (70 if persona in MANAGERS else 80)
    assert Device.objects.filter(name="Unit B").exists() == (persona in MANAGERS)


def test_the_admin_adds_and_changes_a_unit_audited(
    place: Location, unit: Device, client: Client, admin: User, bearer: Headers
) -> None:
    headers = bearer(admin)
    made = client.post(
        "/api/clinic/devices",
        {"location": str(place.uuid), "kind": "tms_unit", "name": "Unit B"},
        content_type="application/json",
        headers=headers,
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["max_output_percent"] == 100  # left out: no limit of its own
    assert body["is_active"] is True
    assert body["room"] is None
    changed = client.patch(
        f"/api/clinic/devices/{body['id']}",
        {"max_output_percent": 65, "is_active": False},
        content_type="application/json",
        headers=headers,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["max_output_percent"] == 65
    assert changed.json()["is_active"] is False
    assert changed.json()["name"] == "Unit B"  # untouched fields stay
    saved = AuditEvent.objects.filter(action=AuditEvent.Action.DEVICE_SAVED)
    assert saved.count() == 2
    assert saved.order_by("seq").last().data["fields"] == [  # type: ignore[union-attr]
        "is_active",
        "max_output_percent",
    ]
    listed = client.get(
        "/api/clinic/devices?kind=tms_unit&active=true", headers=headers
    )
    assert [d["name"] for d in listed.json()] == ["Unit A"]
    read = client.get(f"/api/clinic/devices/{unit.uuid}", headers=headers).json()
    assert read["max_output_percent"] == 80
    assert read["room"] == str(unit.room.uuid)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_output_percent": 0}, "max_output_percent"),
        ({"max_output_percent": 101}, "max_output_percent"),
        ({"kind": "toaster"}, "kind"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"location": "00000000-0000-0000-0000-000000000000"}, "location"),
        ({"room": "00000000-0000-0000-0000-000000000000"}, "room"),
    ],
)
def test_bad_changes_name_the_field_and_write_nothing(
    unit: Device,
    client: Client,
    admin: User,
    bearer: Headers,
    change: dict[str, Any],
    field: str,
) -> None:
    response = client.patch(
        f"/api/clinic/devices/{unit.uuid}",
        change,
        content_type="application/json",
        headers=bearer(admin),
    )
    assert field in problem_fields(response)
    unit.refresh_from_db()
    assert (unit.name, unit.kind, unit.max_output_percent) == ("Unit A", "tms_unit", 80)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DEVICE_SAVED).exists()


def test_a_room_at_another_location_or_clinic_is_refused(
    place: Location,
    unit: Device,
    organization: Organization,
    other_organization: Organization,
    client: Client,
    admin: User,
    bearer: Headers,
) -> None:
    elsewhere = Room.objects.create(
        location=make_location(organization, "Downtown"), name="R", kind="tms"
    )
    theirs = make_location(other_organization, "Theirs")
    headers = bearer(admin)
    body = {"location": str(place.uuid), "kind": "tms_unit", "name": "Unit C"}
    wrong_room = client.post(
        "/api/clinic/devices",
        body | {"room": str(elsewhere.uuid)},
        content_type="application/json",
        headers=headers,
    )
    assert problem_fields(wrong_room) == ["room"]
    their_place = client.post(
        "/api/clinic/devices",
        body | {"location": str(theirs.uuid)},
        content_type="application/json",
        headers=headers,
    )
    assert problem_fields(their_place) == ["location"]
    assert not Device.objects.filter(name="Unit C").exists()
    bad_kind = client.get("/api/clinic/devices?kind=toaster", headers=headers)
    assert problem_fields(bad_kind) == ["kind"]


def test_another_clinics_device_is_a_404(
    other_organization: Organization, client: Client, admin: User, bearer: Headers
) -> None:
    theirs = Device.objects.create(
        location=make_location(other_organization, "Theirs"),
        kind=Device.Kind.TMS_UNIT,
        name="Their unit",
    )
    headers = bearer(admin)
    assert (
        client.get(f"/api/clinic/devices/{theirs.uuid}", headers=headers).status_code
        == 404
    )
    changed = client.patch(
        f"/api/clinic/devices/{theirs.uuid}",
        {"max_output_percent": 10},
        content_type="application/json",
        headers=headers,
    )
    assert changed.status_code == 404
    theirs.refresh_from_db()
    assert theirs.max_output_percent == 100


def test_the_openapi_documents_the_device_problems(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    patch = schema["paths"]["/api/clinic/devices/{device_id}"]["patch"]["responses"]
    assert {"401", "403", "404", "422"} <= {str(k) for k in patch}
