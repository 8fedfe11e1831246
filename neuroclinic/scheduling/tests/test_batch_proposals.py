"""Proposing series for several new patients at once against the calendar (actions/batch.py)."""

from collections.abc import Callable
from datetime import time, timedelta

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location
from neuroclinic.scheduling.actions import series
from neuroclinic.scheduling.actions.batch import BatchItem, propose_batch
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment
from neuroclinic.scheduling.rules import INDUCTION_SPACING, check_series
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.scheduling.tests.test_series import another_patient
from neuroclinic.treatment.actions.plans import active_plan
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(plan: TreatmentPlan, prescriber: User, director: User) -> list[TreatmentPlan]:
    more = []
    for name in ("B", "C"):
        found = active_plan(another_patient(plan, prescriber, director, name))
        assert found is not None
        more.append(found)
    return [plan, *more]


def test_three_new_patients_get_series_the_rules_accept(
    plans: list[TreatmentPlan], clinic: Location, front_desk: User
) -> None:
    # Two rooms and one nurse (two infusions at once): three series must share them.
    proposal = propose_batch(
        [BatchItem(p, preferred_times=[time(10)]) for p in plans],
        location=clinic,
        start=MONDAY,
        latest_start=MONDAY + timedelta(days=6),
        now=NOW,
        time_limit_s=15,
        workers=1,
    )
    assert proposal.status == "optimal"
    assert proposal.gap == 0.0
    assert proposal.unplaced == {}
    assert set(proposal.series) == {p.pk for p in plans}
    starts = []
    for visits in proposal.series.values():
        assert len(visits) == 6
        assert not check_series([v.local_day for v in visits], INDUCTION_SPACING)
        assert all(v.room and v.staff and v.devices for v in visits)
        starts += [v.starts_at for v in visits]
    # Never more than the two rooms' worth of visits at once.
    for at in starts:
        assert sum(1 for s in starts if abs(s - at) < timedelta(hours=2)) <= 2
    # Each proposal books through the usual confirm path.
    for plan in plans:
        series.book_series(
            plan,
            location=clinic,
            starts=[v.starts_at for v in proposal.series[plan.pk]],
            now=NOW,
            by=front_desk,
        )
    assert Appointment.objects.filter(appointment_type__code="infusion").count() == 18


def test_what_is_booked_already_is_left_alone(
    plans: list[TreatmentPlan],
    clinic: Location,
    front_desk: User,
    types: dict[str, object],
) -> None:
    # The first plan's series is booked; the other two are planned around it.
    first = series.propose_series(plans[0], location=clinic, start=MONDAY, now=NOW)
    series.book_series(
        plans[0],
        location=clinic,
        starts=[v.starts_at for v in first.visits],
        now=NOW,
        by=front_desk,
    )
    proposal = propose_batch(
        [BatchItem(p) for p in plans[1:]],
        location=clinic,
        start=MONDAY,
        latest_start=MONDAY + timedelta(days=6),
        now=NOW,
        time_limit_s=15,
        workers=1,
    )
    assert proposal.feasible
    assert proposal.unplaced == {}
    for plan in plans[1:]:
        series.book_series(
            plan,
            location=clinic,
            starts=[v.starts_at for v in proposal.series[plan.pk]],
            now=NOW,
            by=front_desk,
        )


def test_no_nurse_no_series(
    plans: list[TreatmentPlan],
    location: Location,
    rooms: list[object],
    types: dict[str, object],
    prescriber: User,
    on_shift: Callable[..., None],
) -> None:
    on_shift(prescriber)  # a prescriber, but no nurse on shift
    proposal = propose_batch(
        [BatchItem(p) for p in plans],
        location=location,
        start=MONDAY,
        latest_start=MONDAY + timedelta(days=6),
        now=NOW,
        time_limit_s=5,
        workers=1,
    )
    assert not proposal.feasible
    assert proposal.status == "infeasible"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("empty", "plans"),
        ("twice", "plans"),
        ("backwards", "latest_start"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    plans: list[TreatmentPlan], clinic: Location, change: str, field: str
) -> None:
    items = [BatchItem(p) for p in plans]
    latest = MONDAY + timedelta(days=6)
    if change == "empty":
        items = []
    elif change == "twice":
        items = [items[0], items[0]]
    else:
        latest = MONDAY - timedelta(days=1)
    with pytest.raises(SchedulingError) as refused:
        propose_batch(
            items, location=clinic, start=MONDAY, latest_start=latest, now=NOW
        )
    assert refused.value.field == field


def test_a_time_in_the_past_is_never_proposed(
    plans: list[TreatmentPlan], clinic: Location
) -> None:
    now = local(MONDAY, 12)
    proposal = propose_batch(
        [BatchItem(plans[0])],
        location=clinic,
        start=MONDAY,
        latest_start=MONDAY + timedelta(days=6),
        now=now,
        time_limit_s=5,
        workers=1,
    )
    assert proposal.feasible
    assert min(v.starts_at for v in proposal.series[plans[0].pk]) >= now


def test_visits_held_at_another_location_are_not_double_booked(
    plans: list[TreatmentPlan], clinic: Location, front_desk: User
) -> None:
    """Issue 9: the batch reads the visits its patients already hold anywhere in the clinic.
    The first patient prefers 10:00 but holds a visit at another site at 10:00 every day
    for three weeks; the others get 10:00, the first patient never a time that overlaps."""
    from neuroclinic.ledger.tests import factories as ledger_factories
    from neuroclinic.scheduling.models import AppointmentType

    elsewhere = ledger_factories.make_location(
        clinic.organization, name="Northside (test)", phone="555-0111"
    )
    held = []
    phone = AppointmentType.objects.get(
        organization=clinic.organization, code="phone_check_in"
    )
    for n in range(21):
        day = MONDAY + timedelta(days=n)
        held.append(
            Appointment.objects.create(
                organization=clinic.organization,
                location=elsewhere,
                patient=plans[0].patient,
                appointment_type=phone,
                starts_at=local(day, 10),
                ends_at=local(day, 11),
                held_until=local(day, 11),
                booked_by=front_desk,
            )
        )
    proposal = propose_batch(
        [BatchItem(p, preferred_times=[time(10)]) for p in plans],
        location=clinic,
        start=MONDAY,
        latest_start=MONDAY + timedelta(days=6),
        now=NOW,
        time_limit_s=15,
        workers=1,
    )
    assert proposal.feasible
    assert proposal.unplaced == {}
    mine = proposal.series[plans[0].pk]
    for visit in mine:
        ends = visit.starts_at + timedelta(minutes=120)
        assert not any(
            visit.starts_at < h.ends_at and h.starts_at < ends for h in held
        ), visit.local_label
    assert any(
        v.local_time == time(10) for p in plans[1:] for v in proposal.series[p.pk]
    )
    # And it books as proposed: the booking's own patient check agrees.
    series.book_series(
        plans[0],
        location=clinic,
        starts=[v.starts_at for v in mine],
        now=NOW,
        by=front_desk,
    )
