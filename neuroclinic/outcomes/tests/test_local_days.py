"""The dashboard's reporting days are the clinic's calendar days, not UTC days (issue 18
item 7): the stored per-day counts, the period filter over the episode rows, the page
and its CSV. Each case is an infusion near midnight where the clinic's day and the UTC
day differ, west and east of UTC and on the days the clocks change."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.intake.models import ConsultRequest
from neuroclinic.intake.tests.factories import consult_request
from neuroclinic.ledger.tests import factories as ledger_factories
from neuroclinic.outcomes import dashboard, rates
from neuroclinic.outcomes.actions import summaries
from neuroclinic.outcomes.models import EpisodeSummaryCount, SummaryWatermark
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import TreatmentPlan

Period = dashboard.Period
TODAY = date(2026, 12, 1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (clinic zone, the first infusion's instant in UTC, the clinic's day of it). In most
# the clinic's day and the UTC day differ; in the three marked "edge" they agree, and
# they hold the ends of a day on which the clocks change (an offset taken from another
# day of the year would move them).
CASES = [
    # 23:30 CST on 31 January is 05:30 UTC on 1 February.
    pytest.param(
        "America/Chicago",
        utc("2026-02-01 05:30"),
        date(2026, 1, 31),
        id="chicago-2330-local",
    ),
    # 19:00 CDT on the last day of March is midnight UTC on 1 April (the case).
    pytest.param(
        "America/Chicago",
        utc("2026-04-01 00:00"),
        date(2026, 3, 31),
        id="chicago-month-end-1900",
    ),
    # 8 March 2026, clocks forward at 02:00: the day runs 06:00 UTC to 05:00 UTC (23 hours).
    pytest.param(
        "America/Chicago",
        utc("2026-03-08 06:30"),
        date(2026, 3, 8),
        id="chicago-dst-start-0030-cst-edge",
    ),
    pytest.param(
        "America/Chicago",
        utc("2026-03-09 04:30"),
        date(2026, 3, 8),
        id="chicago-dst-start-2330-cdt",
    ),
    pytest.param(
        "America/Chicago",
        utc("2026-03-09 05:30"),
        date(2026, 3, 9),
        id="chicago-after-dst-start-0030-cdt-edge",
    ),
    pytest.param(
        "America/Chicago",
        utc("2026-03-08 05:59"),
        date(2026, 3, 7),
        id="chicago-before-dst-start-2359-cst",
    ),
    # 1 November 2026, clocks back at 02:00: the day runs 05:00 UTC to 06:00 UTC (25 hours).
    pytest.param(
        "America/Chicago",
        utc("2026-11-02 05:30"),
        date(2026, 11, 1),
        id="chicago-dst-end-2330-cst",
    ),
    pytest.param(
        "America/Chicago",
        utc("2026-11-01 04:59"),
        date(2026, 10, 31),
        id="chicago-before-dst-end-2359-cdt",
    ),
    # East of UTC: 01:30 AEDT on 1 February is 14:30 UTC on 31 January.
    pytest.param(
        "Australia/Sydney",
        utc("2026-01-31 14:30"),
        date(2026, 2, 1),
        id="sydney-0130-local",
    ),
    # 5 April 2026, Sydney's clocks back at 03:00 (a 25-hour day, 13:00 to 14:00 UTC):
    # 00:30 AEDT is 13:30 UTC on 4 April; 23:30 AEST is 13:30 UTC on 5 April.
    pytest.param(
        "Australia/Sydney",
        utc("2026-04-04 13:30"),
        date(2026, 4, 5),
        id="sydney-dst-end-0030-aedt",
    ),
    pytest.param(
        "Australia/Sydney",
        utc("2026-04-05 13:30"),
        date(2026, 4, 5),
        id="sydney-dst-end-2330-aest-edge",
    ),
    # 4 October 2026, Sydney's clocks forward at 02:00: 00:30 AEST is 14:30 UTC on 3 October.
    pytest.param(
        "Australia/Sydney",
        utc("2026-10-03 14:30"),
        date(2026, 10, 4),
        id="sydney-dst-start-0030-aest",
    ),
    # A clinic in UTC: the day is the UTC day.
    pytest.param("UTC", utc("2026-02-01 05:30"), date(2026, 2, 1), id="utc"),
]


def clinic_in(organization: Organization, zone: str) -> Location:
    return ledger_factories.make_location(
        organization, phone="555-0100", time_zone=zone
    )


def first_infusion_at(
    organization: Organization,
    prescriber: User,
    director: User,
    nurse: User,
    instant: datetime,
    name: str = "Midnighter",
) -> TreatmentPlan:
    """One episode whose first (and only) infusion started at `instant`."""
    patient = patient_actions.register_patient(
        organization,
        by=prescriber,
        family_name=name,
        given_name="Demo",
        birth_date=date(1980, 2, 1),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )
    plan = factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=instant.date(),
        induction=1,
    )
    unguarded_update(InfusionSession.objects.filter(plan=plan), started_at=instant)
    return plan


def episodes_on(
    organization: Organization, period: dashboard.Period
) -> tuple[int, int]:
    """The episodes counted in `period`: from the stored counts (the page) and from the
    rows themselves (the definition)."""
    return (
        dashboard.from_table(organization.pk, today=TODAY, period=period).episodes,
        dashboard.from_rows(organization.pk, today=TODAY, period=period).episodes,
    )


@pytest.mark.parametrize(("zone", "instant", "day"), CASES)
def test_an_episode_counts_on_the_clinics_day_of_its_first_infusion(
    organization: Organization,
    prescriber: User,
    director: User,
    nurse: User,
    zone: str,
    instant: datetime,
    day: date,
) -> None:
    clinic_in(organization, zone)
    first_infusion_at(organization, prescriber, director, nurse, instant)
    summaries.refresh_all(organization)

    stored = EpisodeSummaryCount.objects.get(
        organization=organization, instrument_code="phq9"
    )
    assert (stored.first_infusion_on, stored.time_zone) == (day, zone)
    assert dashboard.reporting_zone(organization.pk) == zone
    assert episodes_on(organization, Period(day, day, zone)) == (1, 1)
    assert episodes_on(organization, Period(None, day, zone)) == (1, 1)
    assert episodes_on(organization, Period(day, None, zone)) == (1, 1)
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    assert episodes_on(organization, Period(None, before, zone)) == (0, 0)
    assert episodes_on(organization, Period(after, None, zone)) == (0, 0)


@pytest.mark.parametrize(("zone", "instant", "day"), CASES)
def test_a_refresh_of_the_patient_moves_the_count_by_the_clinics_days(
    organization: Organization,
    prescriber: User,
    director: User,
    nurse: User,
    zone: str,
    instant: datetime,
    day: date,
) -> None:
    """The incremental path (`refresh_patients` recounting only the days touched) counts
    the same local days as a full recount."""
    clinic_in(organization, zone)
    summaries.refresh_all(
        organization
    )  # the watermark: later refreshes are incremental
    plan = first_infusion_at(organization, prescriber, director, nurse, instant)
    summaries.refresh_patients(organization.pk, [plan.patient_id])
    days = set(
        EpisodeSummaryCount.objects.filter(organization=organization).values_list(
            "first_infusion_on", "time_zone"
        )
    )
    assert days == {(day, zone)}
    # Moved 24 hours later: it leaves its old day, with nothing left behind there.
    # (Across a change of the clocks 24 hours can be two days: stdlib's zone says.)
    moved = instant + timedelta(days=1)
    unguarded_update(
        InfusionSession.objects.filter(plan=plan),
        started_at=instant + timedelta(days=1),
    )
    summaries.refresh_patients(organization.pk, [plan.patient_id])
    days = set(
        EpisodeSummaryCount.objects.filter(organization=organization).values_list(
            "first_infusion_on", "time_zone"
        )
    )
    assert days == {(moved.astimezone(ZoneInfo(zone)).date(), zone)}


def test_a_month_holds_the_infusions_of_its_local_days(
    organization: Organization, prescriber: User, director: User, nurse: User
) -> None:
    """19:00 in Chicago on 31 March belongs to March, 00:30 on 1 April to April."""
    zone = "America/Chicago"
    clinic_in(organization, zone)
    first_infusion_at(
        organization, prescriber, director, nurse, utc("2026-04-01 00:00"), "Marchson"
    )
    first_infusion_at(
        organization, prescriber, director, nurse, utc("2026-04-01 05:30"), "Aprilson"
    )
    summaries.refresh_all(organization)
    march = Period(date(2026, 3, 1), date(2026, 3, 31), zone)
    april = Period(date(2026, 4, 1), date(2026, 4, 30), zone)
    assert episodes_on(organization, march) == (1, 1)
    assert episodes_on(organization, april) == (1, 1)
    rows = dashboard.figure_rows(
        organization.pk,
        instrument_code="phq9",
        period=march,
        checkpoint="at_week_4",
        measure="scored",
    )
    assert rows.count() == 0  # no scores: the figure's filter still takes the period
    assert {
        r.patient.family_name
        for r in dashboard.summary_rows(organization.pk, "phq9", march)
    } == {"Marchson"}


def test_counts_of_another_zone_are_not_read_as_the_clinics_days_and_are_counted_again(
    organization: Organization, prescriber: User, director: User, nurse: User
) -> None:
    """A clinic whose zone changed (or counts stored before local days, which say UTC):
    the page counts the rows until the next ten-minute refresh counts every day again."""
    location = clinic_in(organization, "UTC")
    first_infusion_at(
        organization, prescriber, director, nurse, utc("2026-02-01 05:30")
    )
    summaries.refresh_all(organization)
    assert set(
        EpisodeSummaryCount.objects.values_list("first_infusion_on", "time_zone")
    ) == {(date(2026, 2, 1), "UTC")}
    Location.objects.filter(pk=location.pk).update(time_zone="America/Chicago")
    zone = "America/Chicago"
    jan31, feb1 = date(2026, 1, 31), date(2026, 2, 1)
    # No stored count on 31 January, yet an episode row is on it: the rows answer.
    assert (
        dashboard.grouped_counts(organization.pk, "phq9", Period(jan31, jan31, zone))
        is None
    )
    assert episodes_on(organization, Period(jan31, jan31, zone)) == (1, 1)
    # A stored count on 1 February, but a UTC day: not the clinic's 1 February.
    assert (
        dashboard.grouped_counts(organization.pk, "phq9", Period(feb1, feb1, zone))
        is None
    )
    assert episodes_on(organization, Period(feb1, feb1, zone)) == (0, 0)
    # All time has no day edges: the stored counts answer whatever their zone.
    assert dashboard.grouped_counts(organization.pk, "phq9", Period(zone=zone))
    assert SummaryWatermark.objects.filter(organization=organization).exists()
    summaries.refresh_changed(organization)  # nothing changed but the zone
    assert set(
        EpisodeSummaryCount.objects.values_list("first_infusion_on", "time_zone")
    ) == {(jan31, zone)}
    assert dashboard.grouped_counts(organization.pk, "phq9", Period(jan31, jan31, zone))
    assert episodes_on(organization, Period(jan31, jan31, zone)) == (1, 1)


def test_the_page_and_its_csv_name_the_clinics_zone_and_count_its_days(
    as_persona: Any,
    organization: Organization,
    prescriber: User,
    director: User,
    nurse: User,
) -> None:
    clinic_in(organization, "America/Chicago")
    first_infusion_at(
        organization, prescriber, director, nurse, utc("2026-04-01 00:00")
    )
    summaries.refresh_all(organization)
    client = as_persona("director")
    url = reverse("outcomes:dashboard")
    march = {"start": "2026-03-01", "end": "2026-03-31"}
    page = client.get(url, march).content.decode()
    assert "calendar days in America/Chicago, the clinic's time zone" in page
    period_form, report = page.split('id="id_end"', 1)[1].split("</form>", 1)
    assert "days in America/Chicago" in period_form
    assert 'aria-describedby="period-zone"' in period_form
    assert "1 treatment episodes" in page
    april = client.get(url, {"start": "2026-04-01", "end": "2026-04-30"})
    assert "0 treatment episodes" in april.content.decode()
    body = client.get(url, {**march, "format": "csv"}).content.decode()
    assert (
        "reporting period,"
        '"first infusion 2026-03-01 to 2026-03-31, calendar days in America/Chicago"'
        in body
    )
    assert "UTC" not in report.split("Episode summaries as of")[0]


def test_clinic_rates_count_requests_on_the_clinics_day(
    organization: Organization,
) -> None:
    """A consult request made at 23:30 in Chicago on 31 January is January's."""
    zone = "America/Chicago"
    clinic_in(organization, zone)
    request = consult_request(organization)
    ConsultRequest.objects.filter(pk=request.pk).update(
        created_at=utc("2026-02-01 05:30")
    )
    january = Period(date(2026, 1, 1), date(2026, 1, 31), zone)
    february = Period(date(2026, 2, 1), date(2026, 2, 28), zone)
    assert rates.funnel(organization.pk, january)[0].count == 1
    assert rates.funnel(organization.pk, february)[0].count == 0
