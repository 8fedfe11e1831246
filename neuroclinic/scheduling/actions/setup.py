"""The clinic's calendar set-up: appointment types, staffing settings, shifts, closures."""

from datetime import datetime

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.scheduling.defaults import DEFAULT_TYPES
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import (
    AppointmentType,
    Closure,
    SchedulingSettings,
    StaffShift,
)


@transaction.atomic
def install_default_types(
    organization: Organization, *, by: User
) -> list[AppointmentType]:
    """Add the default appointment types the clinic does not have yet."""
    have = set(
        AppointmentType.objects.filter(organization=organization).values_list(
            "code", flat=True
        )
    )
    made = [
        AppointmentType.objects.create(
            organization=organization,
            code=d.code,
            name=d.name,
            duration_minutes=d.duration_minutes,
            turnover_minutes=d.turnover_minutes,
            room_kind=d.room_kind,
            device_kinds=list(d.device_kinds),
            staff_role=d.staff_role,
        )
        for d in DEFAULT_TYPES
        if d.code not in have
    ]
    SchedulingSettings.objects.get_or_create(
        organization=organization, defaults={"reminder_hours": [48, 2]}
    )
    record(
        AuditEvent.Action.SCHEDULING_CONFIGURED,
        actor=by,
        organization=organization,
        appointment_types=[t.code for t in made],
    )
    return made


@transaction.atomic
def add_shift(
    user: User, *, location: Location, starts_at: datetime, ends_at: datetime, by: User
) -> StaffShift:
    if ends_at <= starts_at:
        raise SchedulingError("A shift ends after it starts.", field="ends_at")
    if user.organization_id != location.organization_id:
        raise SchedulingError("Choose a member of this clinic's staff.", field="user")
    shift = StaffShift.objects.create(
        organization_id=location.organization_id,
        location=location,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    record(
        AuditEvent.Action.SCHEDULING_CONFIGURED,
        actor=by,
        organization=location.organization,
        subject=shift,
        shift_for=user.username,
    )
    return shift


@transaction.atomic
def add_closure(
    location: Location,
    *,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    room_id: int | None = None,
    device_id: int | None = None,
    by: User,
) -> Closure:
    if ends_at <= starts_at:
        raise SchedulingError("A closure ends after it starts.", field="ends_at")
    if not reason.strip():
        raise SchedulingError("Say why it is closed.", field="reason")
    closure = Closure.objects.create(
        location=location,
        room_id=room_id,
        device_id=device_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip()[:200],
    )
    record(
        AuditEvent.Action.SCHEDULING_CONFIGURED,
        actor=by,
        organization=location.organization,
        subject=closure,
        reason=closure.reason,
    )
    return closure
