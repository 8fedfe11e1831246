"""The alarm rules' window of readings: one statement on a steady feed, the same readings as before.

`alarm_window` runs on every monitor request. It read the newest readings, then
those within the rules' span of the newest (two statements); it now reads the
span in one statement (the newest found by a subquery) and only a sparse feed,
whose span holds fewer than the rules' consecutive count, costs a second.
`_two_statements` below is the earlier code, kept as the reference.
"""

from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.lib import vitals

pytestmark = pytest.mark.django_db


def _store(session: InfusionSession, times: list[datetime]) -> None:
    VitalReading.objects.bulk_create(
        VitalReading(
            organization_id=session.organization_id,
            session=session,
            taken_at=at,
            received_at=at,
            source=VitalReading.Source.MONITOR,
            phase=VitalReading.Phase.BASELINE,
            device_key="window-test",
            systolic_mmhg=120 + i % 9,
            diastolic_mmhg=80,
            heart_rate_bpm=70 + i % 7,
            spo2_percent=98,
            respiratory_rate_per_min=14,
        )
        for i, at in enumerate(times)
    )


def _two_statements(
    session: InfusionSession, thresholds: vitals.AlarmThresholds
) -> list[vitals.TimedVitalSigns]:
    span = max(
        int(getattr(thresholds, f.name))
        for f in dataclass_fields(thresholds)
        if f.name.endswith("_min_span_minutes")
    )
    count = max(
        int(getattr(thresholds, f.name))
        for f in dataclass_fields(thresholds)
        if f.name.endswith("_consecutive_readings")
    )
    ordered = session.vitals.order_by("-taken_at", "-id")
    fields = monitoring._ALARM_FIELDS
    newest = list(ordered.values_list(*fields)[: count + 1])
    if not newest:
        return []
    since = newest[0][0] - timedelta(minutes=span + 1)
    recent = list(
        ordered.filter(taken_at__gte=since).values_list(*fields)[
            : monitoring.ALARM_MAX_READINGS
        ]
    )
    chosen = recent if len(recent) > len(newest) else newest
    return monitoring._timed(chosen[::-1])


def test_a_steady_feed_reads_its_window_in_one_statement(
    running: InfusionSession, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    session = InfusionSession.objects.select_related("order__protocol").get(
        pk=running.pk
    )
    thresholds = session.order.protocol.thresholds()
    newest = timezone.now().replace(microsecond=250_000) + timedelta(hours=1)
    _store(session, [newest - timedelta(seconds=s) for s in range(900)])
    expected = _two_statements(session, thresholds)

    with django_assert_num_queries(1):
        window = monitoring.alarm_window(session, thresholds)

    assert window == expected
    assert len(window) > 300  # the span and its minute of margin, a second apart
    assert window[-1].taken_at == newest


def test_a_sparse_feed_reads_the_newest_readings_whatever_their_age(
    running: InfusionSession,
) -> None:
    session = InfusionSession.objects.select_related("order__protocol").get(
        pk=running.pk
    )
    thresholds = session.order.protocol.thresholds()
    newest = timezone.now() + timedelta(hours=1)
    _store(session, [newest - timedelta(minutes=20 * n) for n in range(5)])

    window = monitoring.alarm_window(session, thresholds)

    assert window == _two_statements(session, thresholds)
    assert len(window) >= 2  # more than the one reading inside its own span
    assert window[-1].taken_at == newest


def _store_values(
    session: InfusionSession, rows: list[tuple[datetime, int, int]]
) -> None:
    """Readings at the given times with the given heart rate and SpO2, else normal."""
    VitalReading.objects.bulk_create(
        VitalReading(
            organization_id=session.organization_id,
            session=session,
            taken_at=at,
            received_at=at,
            source=VitalReading.Source.MONITOR,
            phase=VitalReading.Phase.BASELINE,
            device_key="window-test",
            systolic_mmhg=120,
            diastolic_mmhg=80,
            heart_rate_bpm=heart_rate,
            spo2_percent=spo2,
            respiratory_rate_per_min=14,
        )
        for at, heart_rate, spo2 in rows
    )


def _locked(running: InfusionSession) -> tuple[InfusionSession, vitals.AlarmThresholds]:
    session = InfusionSession.objects.select_related("order__protocol").get(
        pk=running.pk
    )
    return session, session.order.protocol.thresholds()


def test_a_feed_within_its_limits_reads_only_its_newest_readings(
    running: InfusionSession, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    session, thresholds = _locked(running)
    newest = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    _store_values(
        session, [(newest - timedelta(seconds=s), 75, 98) for s in range(900)]
    )

    with django_assert_num_queries(1):
        readings = monitoring.alarm_readings(session, thresholds).readings

    window = monitoring.alarm_window(session, thresholds)
    assert len(window) > 300
    assert readings == window[-len(readings) :]  # its newest end, oldest first
    assert len(readings) == thresholds.bp_high_consecutive_readings + 1
    assert vitals.evaluate_alarms(readings, thresholds) == []


@pytest.mark.parametrize(
    "minutes_breaching",
    [0.05, 2, 4.9, 5, 12],  # the HR > 120 rule needs 5 min; runs shorter and longer
)
def test_a_run_of_breaching_readings_reads_the_window_and_alarms_the_same(
    running: InfusionSession,
    django_assert_num_queries: DjangoAssertNumQueries,
    minutes_breaching: float,
) -> None:
    session, thresholds = _locked(running)
    newest = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    breaching = int(minutes_breaching * 60)
    _store_values(
        session,
        [
            (newest - timedelta(seconds=s), 130 if s <= breaching else 75, 98)
            for s in range(900)
        ],
    )
    window = monitoring.alarm_window(session, thresholds)

    with django_assert_num_queries(2):  # the newest few, then the whole window
        readings = monitoring.alarm_readings(session, thresholds).readings

    assert readings == window
    alarms = vitals.evaluate_alarms(readings, thresholds)
    assert [a.code for a in alarms] == (
        [vitals.AlarmCode.HEART_RATE_HIGH] if minutes_breaching >= 5 else []
    )


@pytest.mark.parametrize(
    "spo2", [[98, 98, 98], [91, 98, 91], [98, 91, 91], [91, 91, 91], [98, 98, 85]]
)
def test_a_sparse_feed_alarms_as_its_window_does(
    running: InfusionSession, spo2: list[int]
) -> None:
    session, thresholds = _locked(running)
    newest = timezone.now() + timedelta(hours=1)
    _store_values(
        session,
        [
            (newest - timedelta(minutes=20 * n), 75, value)
            for n, value in enumerate(spo2)
        ],
    )
    window = monitoring.alarm_window(session, thresholds)

    readings = monitoring.alarm_readings(session, thresholds).readings

    assert vitals.evaluate_alarms(readings, thresholds) == vitals.evaluate_alarms(
        window, thresholds
    )
