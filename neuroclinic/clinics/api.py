"""The clinic's devices at /api/clinic/devices (issue 10): TMS units with their maximum
output, pumps and monitors. Reads for the roles that run or see TMS and the clinic
admin; create and change for the clinic admin, as on the settings page, through the
same form (its rules: a room at the device's location, a maximum output of 1-100 %)
and the same audited save. Access is checked in `clinics/access.py`. Bad input is a
422 problem+json naming the field, and writes nothing."""

from typing import Any
from uuid import UUID

from django.forms.models import model_to_dict
from django.http import HttpRequest
from ninja import Router, Schema, Status

from neuroclinic.accounts.models import User
from neuroclinic.api_errors import FieldErrors
from neuroclinic.clinics import access, actions
from neuroclinic.clinics.forms import DeviceForm
from neuroclinic.clinics.models import Device, Location, Room

router = Router(tags=["clinic"])


class DeviceOut(Schema):
    id: UUID
    kind: str
    name: str
    location: UUID
    room: UUID | None
    manufacturer: str
    model_name: str
    serial_number: str
    max_output_percent: int  # TMS units: the highest output a session may use
    is_active: bool


class DeviceIn(Schema):
    location: UUID
    room: UUID | None = None
    kind: str
    name: str
    manufacturer: str = ""
    model_name: str = ""
    serial_number: str = ""
    max_output_percent: int | None = None  # left out: 100 %
    is_active: bool = True


class DeviceChangeIn(Schema):
    """Only the fields given change."""

    location: UUID | None = None
    room: UUID | None = None
    kind: str | None = None
    name: str | None = None
    manufacturer: str | None = None
    model_name: str | None = None
    serial_number: str | None = None
    max_output_percent: int | None = None
    is_active: bool | None = None


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # auth= guarantees it
    return user


def _out(device: Device) -> dict[str, Any]:
    return {
        "id": device.uuid,
        "kind": device.kind,
        "name": device.name,
        "location": device.location.uuid,
        "room": device.room.uuid if device.room else None,
        "manufacturer": device.manufacturer,
        "model_name": device.model_name,
        "serial_number": device.serial_number,
        "max_output_percent": device.max_output_percent,
        "is_active": device.is_active,
    }


def _pk(model: type[Location] | type[Room], organization_id: int, value: UUID) -> int:
    owner = "organization_id" if model is Location else "location__organization_id"
    found = model.objects.filter(uuid=value, **{owner: organization_id}).first()
    if found is None:
        name = "location" if model is Location else "room"
        raise FieldErrors({name: [f"Choose one of this clinic's {name}s."]})
    return found.pk


def _save(
    organization_id: int, data: dict[str, Any], instance: Device | None, by: User
) -> Device:
    form = DeviceForm(data, instance=instance)
    # Only this organization's locations and rooms may be chosen (as on the page).
    form.fields["location"].queryset = Location.objects.filter(  # type: ignore[attr-defined]
        organization_id=organization_id
    )
    form.fields["room"].queryset = Room.objects.filter(  # type: ignore[attr-defined]
        location__organization_id=organization_id
    )
    if not form.is_valid():
        raise FieldErrors(
            {
                field: [str(m) for m in messages]
                for field, messages in form.errors.items()
            }
        )
    device = form.save(commit=False)
    actions.save_clinic_object(device, changed_fields=form.changed_data, by=by)
    return access.get_device(organization_id, device.uuid)


@router.get("/clinic/devices", response=list[DeviceOut])
def device_list(
    request: HttpRequest, kind: str | None = None, active: bool | None = None
) -> Any:
    """The clinic's devices, by location and name; `kind=tms_unit` for the TMS units."""
    organization_id = access.require_device_reader(_user(request))
    if kind is not None and kind not in Device.Kind.values:
        raise FieldErrors({"kind": [f"One of {', '.join(Device.Kind.values)}."]})
    rows = access.devices_for(organization_id).select_related("location", "room")
    if kind is not None:
        rows = rows.filter(kind=kind)
    if active is not None:
        rows = rows.filter(is_active=active)
    return [_out(d) for d in rows.order_by("location__name", "kind", "name", "id")]


@router.get("/clinic/devices/{device_id}", response=DeviceOut)
def device_detail(request: HttpRequest, device_id: UUID) -> Any:
    organization_id = access.require_device_reader(_user(request))
    return _out(access.get_device(organization_id, device_id))


@router.post("/clinic/devices", response={201: DeviceOut})
def device_create(request: HttpRequest, payload: DeviceIn) -> Any:
    """Add a device (clinic admin); audited like the settings page."""
    user = _user(request)
    organization_id = access.require_device_manager(user)
    data = payload.dict()
    data["location"] = _pk(Location, organization_id, payload.location)
    data["room"] = (
        None if payload.room is None else _pk(Room, organization_id, payload.room)
    )
    return Status(201, _out(_save(organization_id, data, None, user)))


@router.patch("/clinic/devices/{device_id}", response=DeviceOut)
def device_change(
    request: HttpRequest, device_id: UUID, payload: DeviceChangeIn
) -> Any:
    """Change the fields given (clinic admin), e.g. a TMS unit's maximum output."""
    user = _user(request)
    organization_id = access.require_device_manager(user)
    device = access.get_device(organization_id, device_id)
    data = model_to_dict(device, fields=list(DeviceForm.Meta.fields))
    changes = payload.dict(exclude_unset=True)
    if changes.get("location") is not None:
        changes["location"] = _pk(Location, organization_id, changes["location"])
    if "room" in changes:
        room = changes["room"]
        changes["room"] = None if room is None else _pk(Room, organization_id, room)
    for name in ("kind", "name", "max_output_percent", "is_active", "location"):
        if name in changes and changes[name] is None:
            raise FieldErrors({name: ["This field cannot be null."]})
    data |= changes
    return _out(_save(organization_id, data, device, user))
