"""Good-faith-estimate deadlines skip the clinic's closed days (B6 with holidays)."""

import zoneinfo
from datetime import date, datetime, time

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.billing.actions import estimates
from neuroclinic.billing.holidays import closed_days
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Closure

pytestmark = pytest.mark.django_db
NY = zoneinfo.ZoneInfo("America/New_York")


def _location(organization: Organization, name: str) -> Location:
    return Location.objects.create(
        organization=organization,
        name=name,
        address_line1="1 Test St",
        city="Testville",
        state="NY",
        postal_code="10001",
        time_zone="America/New_York",
    )


def _closed(location: Location, first: date, last_exclusive: date) -> None:
    Closure.objects.create(
        location=location,
        starts_at=datetime.combine(first, time.min, tzinfo=NY),
        ends_at=datetime.combine(last_exclusive, time.min, tzinfo=NY),
        reason="Holiday",
    )


@pytest.mark.parametrize(
    ("closures", "expected"),
    [
        ([], set()),
        ([("a", 8, 9), ("b", 8, 9)], {8}),  # both locations closed all of the 8th
        ([("a", 8, 9)], set()),  # one location open keeps the day
        ([("a", 8, 10), ("b", 9, 10)], {9}),
    ],
)
def test_closed_days_need_every_location_closed_all_day(
    organization: Organization, closures: list[tuple[str, int, int]], expected: set[int]
) -> None:
    places = {"a": _location(organization, "A"), "b": _location(organization, "B")}
    for key, first, last in closures:
        _closed(places[key], date(2026, 12, first), date(2026, 12, last))
    assert closed_days(organization.pk, date(2026, 12, 1), date(2026, 12, 31)) == {
        date(2026, 12, d) for d in expected
    }


def test_a_partial_day_closure_is_not_a_holiday(organization: Organization) -> None:
    place = _location(organization, "A")
    Closure.objects.create(
        location=place,
        starts_at=datetime(2026, 12, 8, 12, 0, tzinfo=NY),
        ends_at=datetime(2026, 12, 8, 17, 0, tzinfo=NY),
        reason="Staff meeting",
    )
    assert closed_days(organization.pk, date(2026, 12, 1), date(2026, 12, 31)) == set()


@pytest.mark.usefixtures("priced")
def test_the_estimate_deadline_skips_a_clinic_holiday(
    organization: Organization, diagnosed: Patient, billing: User
) -> None:
    _closed(_location(organization, "Only"), date(2026, 12, 8), date(2026, 12, 9))
    estimates.record_payer_status(diagnosed, status="self_pay", by=billing)
    estimate = estimates.give_estimate(
        diagnosed,
        items=[estimates.EstimateItem("consult")],
        scheduled_on=date(2026, 12, 7),  # a Monday; service 10+ business days ahead
        service_on=date(2026, 12, 22),
        by=billing,
    )
    # three business days after Monday the 7th, with Tuesday the 8th closed: Friday the 11th
    assert estimate.due_by == date(2026, 12, 11)
