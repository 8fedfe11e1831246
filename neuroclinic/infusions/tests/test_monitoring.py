"""The shared ingest path: alarm rules over a 1-second feed, late readings, phases."""

from datetime import timedelta

import pytest
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    InfusionSession,
    RejectedReading,
    SessionAlarm,
    VitalReading,
)
from neuroclinic.infusions.tests import factories

MONITOR = VitalReading.Source.MONITOR


def test_heart_rate_sustained_for_five_minutes_on_a_one_second_feed(
    running: InfusionSession, nurse: User, monitor: Device
) -> None:
    now = timezone.now()
    unguarded_update(running.vitals, taken_at=now - timedelta(minutes=25))
    start = now - timedelta(minutes=6)
    feed = [
        factories.reading(start + timedelta(seconds=s), monitor, heart_rate_bpm=126)
        for s in range(4 * 60 + 1)
    ]
    result = monitoring.ingest_readings(running, feed, source=MONITOR, by=None)
    assert len(result.accepted) == 241
    assert result.alarms == []  # 4 minutes: not yet "sustained for 5 min"
    more = [
        factories.reading(start + timedelta(seconds=s), monitor, heart_rate_bpm=127)
        for s in range(4 * 60 + 1, 5 * 60 + 1)
    ]
    result = monitoring.ingest_readings(running, more, source=MONITOR, by=None)
    assert [a.code for a in result.alarms] == ["heart_rate_high"]
    assert "on 301 consecutive readings over 5 min" in result.alarms[0].message


def test_a_late_reading_from_the_past_does_not_raise_a_stale_alarm(
    running: InfusionSession, nurse: User, monitor: Device
) -> None:
    now = timezone.now()
    unguarded_update(running.vitals, taken_at=now - timedelta(minutes=25))
    monitoring.ingest_readings(
        running,
        [factories.reading(now - timedelta(seconds=10), monitor)],
        source=MONITOR,
        by=None,
    )
    late = factories.reading(now - timedelta(minutes=3), monitor, spo2_percent=85)
    result = monitoring.ingest_readings(running, [late], source=MONITOR, by=None)
    assert len(result.accepted) == 1
    assert not SessionAlarm.objects.exists()
    latest = running.vitals.order_by("-taken_at").first()
    assert latest is not None
    assert latest.spo2_percent == 98


def test_an_alarm_clears_when_the_values_recover_but_still_needs_acknowledging(
    running: InfusionSession, nurse: User, monitor: Device
) -> None:
    now = timezone.now()
    unguarded_update(running.vitals, taken_at=now - timedelta(minutes=25))
    monitoring.ingest_readings(
        running,
        [factories.reading(now - timedelta(seconds=5), monitor, spo2_percent=86)],
        source=MONITOR,
        by=None,
    )
    monitoring.ingest_readings(
        running, [factories.reading(now, monitor)], source=MONITOR, by=None
    )
    alarm = SessionAlarm.objects.get()
    assert alarm.code == "spo2_critical"
    assert alarm.cleared_at is not None
    assert alarm.needs_acknowledgment
    cleared = AuditEvent.objects.get(action=AuditEvent.Action.INFUSION_ALARM_CLEARED)
    assert (cleared.actor_username, cleared.subject_id, cleared.data["code"]) == (
        "alarm rules",
        str(alarm.uuid),
        "spo2_critical",
    )
    monitoring.acknowledge_alarm(alarm, by=nurse, note="Probe off")
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == nurse
    acknowledged = AuditEvent.objects.get(
        action=AuditEvent.Action.INFUSION_ALARM_ACKNOWLEDGED
    )
    assert (acknowledged.actor, acknowledged.data["note"]) == (nurse, "Probe off")
    with pytest.raises(InfusionError, match="already acknowledged"):
        monitoring.acknowledge_alarm(alarm, by=nurse, note="Again")
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.INFUSION_ALARM_ACKNOWLEDGED
        ).count()
        == 1
    )


def test_a_typed_reading_that_is_implausible_writes_nothing(
    running: InfusionSession, nurse: User
) -> None:
    before = (
        running.vitals.count(),
        AuditEvent.objects.filter(action__startswith="infusions.vitals").count(),
    )
    with pytest.raises(InfusionError) as refused:
        monitoring.record_typed_vitals(
            running, factories.NORMAL | {"spo2_percent": 130}, by=nurse
        )
    assert "spo2_percent" in refused.value.errors
    assert (
        running.vitals.count(),
        AuditEvent.objects.filter(action__startswith="infusions.vitals").count(),
    ) == before
    assert not RejectedReading.objects.exists()


def test_readings_take_their_phase_from_their_time(
    running: InfusionSession, monitor: Device
) -> None:
    assert running.started_at is not None
    before = factories.reading(running.started_at - timedelta(seconds=30), monitor)
    during = factories.reading(timezone.now(), monitor)
    monitoring.ingest_readings(running, [during, before], source=MONITOR, by=None)
    phases = dict(
        running.vitals.filter(source=MONITOR).values_list("heart_rate_bpm", "phase")
    )
    assert set(
        running.vitals.filter(source=MONITOR).values_list("phase", flat=True)
    ) == {
        "baseline",
        "infusion",
    }
    assert phases
