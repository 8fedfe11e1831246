"""A Lakeside location open 08:00-18:00 every day, two infusion rooms with a pump and a
monitor each, a nurse and a prescriber on shift, and an eligible, consented patient with
a plan and a signed induction order."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import (
    Device,
    Location,
    OpeningHours,
    Organization,
    Room,
)
from neuroclinic.ledger.tests import factories as ledger_factories
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import setup
from neuroclinic.scheduling.models import AppointmentType
from neuroclinic.treatment.models import TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories

# A Monday well in the future, so no booking is "in the past".
MONDAY = date(2031, 3, 3)
NOW = datetime(2031, 3, 1, 12, tzinfo=UTC)


def local(
    day: date, hour: int, minute: int = 0, zone: str = "America/Chicago"
) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(
        UTC
    )


@pytest.fixture
def location(organization: Organization) -> Location:
    location = ledger_factories.make_location(organization, phone="555-0100")
    for weekday in range(7):
        OpeningHours.objects.create(
            location=location, weekday=weekday, opens_at=time(8), closes_at=time(18)
        )
    return location


@pytest.fixture
def rooms(location: Location) -> list[Room]:
    made = []
    for n in (1, 2):
        room = Room.objects.create(
            location=location, name=f"Infusion {n}", kind=Room.Kind.INFUSION
        )
        Device.objects.create(
            location=location,
            room=room,
            kind=Device.Kind.INFUSION_PUMP,
            name=f"Pump {n}",
        )
        Device.objects.create(
            location=location, room=room, kind=Device.Kind.MONITOR, name=f"Monitor {n}"
        )
        made.append(room)
    return made


@pytest.fixture
def types(organization: Organization, admin: User) -> dict[str, AppointmentType]:
    setup.install_default_types(organization, by=admin)
    return {
        t.code: t for t in AppointmentType.objects.filter(organization=organization)
    }


@pytest.fixture
def on_shift(location: Location, admin: User) -> Callable[..., None]:
    def put(
        user: User,
        first: date = MONDAY,
        days: int = 35,
        hours: tuple[int, int] = (8, 18),
    ) -> None:
        for n in range(days):
            day = first + timedelta(days=n)
            setup.add_shift(
                user,
                location=location,
                starts_at=local(day, hours[0]),
                ends_at=local(day, hours[1]),
                by=admin,
            )

    return put


@pytest.fixture
def clinic(
    location: Location,
    rooms: list[Room],
    types: dict[str, AppointmentType],
    nurse: User,
    prescriber: User,
    on_shift: Callable[..., None],
) -> Location:
    on_shift(nurse)
    on_shift(prescriber)
    return location


@pytest.fixture
def plan(patient: Patient, prescriber: User, director: User) -> TreatmentPlan:
    treatment_factories.ready_for_treatment(patient, prescriber)
    plan = treatment_factories.make_plan(patient, prescriber, director)
    treatment_factories.sign_order(plan, prescriber)
    return plan


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def move_to(self, when: datetime) -> None:
        self.now = when


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """timezone.now() answers what the test says it is."""
    from django.utils import timezone

    fixed = Clock(NOW)
    monkeypatch.setattr(timezone, "now", lambda: fixed.now)
    return fixed
