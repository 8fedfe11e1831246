"""A batch of readings is stored in one INSERT: the same rows, alarms and seals as one by one.

`_insert` writes the batch with one `INSERT ... ON CONFLICT DO NOTHING RETURNING`
and seals the rows it gets back; `_insert_one_by_one` (below) is the path it
replaced: each reading saved alone in a savepoint, sealed by its post_save, a
conflict skipped. Each test runs the same feed through both, each inside a
savepoint that is rolled back, and compares what was stored.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent, Seal
from neuroclinic.audit.seals import covered_fields, row_hash, verify_seals
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession, SessionAlarm, VitalReading
from neuroclinic.infusions.tests import factories
from neuroclinic.notifications.models import Notification

MONITOR = VitalReading.Source.MONITOR
TYPED = VitalReading.Source.TYPED

_ROW = (
    "taken_at",
    "received_at",
    "source",
    "phase",
    "device_id",
    "device_key",
    "client_key",
    "entered_by_id",
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate_per_min",
    "etco2_mmhg",
)


class _Rollback(Exception):
    pass


def _insert_one_by_one(readings: list[VitalReading]) -> list[VitalReading]:
    """The reference: one INSERT and one savepoint per reading, sealed by post_save."""
    stored = []
    for reading in readings:
        try:
            with transaction.atomic():
                reading.save(force_insert=True)
        except IntegrityError:
            continue
        stored.append(reading)
    return stored


def _outcome(
    session: InfusionSession,
    feed: list[dict[str, Any]],
    *,
    insert: Callable[[list[VitalReading]], list[VitalReading]],
    monkeypatch: pytest.MonkeyPatch,
    source: VitalReading.Source = MONITOR,
    by: User | None = None,
    now: datetime,
) -> dict[str, Any]:
    """What one ingest stores, read back from the database, then rolled back."""
    seen: dict[str, Any] = {}
    try:
        with transaction.atomic(), monkeypatch.context() as patch:
            patch.setattr(monitoring, "_insert", insert)
            result = monitoring.ingest_readings(
                session, feed, source=source, now=now, by=by
            )
            ids = [str(r.pk) for r in result.accepted]
            seen["result"] = (len(result.accepted), result.duplicates)
            seen["rows"] = list(
                VitalReading.objects.filter(session=session)
                .order_by("taken_at", "id")
                .values_list(*_ROW)
            )
            seen["alarms"] = sorted(
                SessionAlarm.objects.filter(session=session).values_list(
                    "code", "severity", "message", "reading_taken_at", "cleared_at"
                )
            )
            seals = Seal.objects.filter(
                model="infusions.vitalreading", object_id__in=ids
            )
            # One seal per stored reading, over the same columns, matching its row
            # (ids differ between the runs on PostgreSQL: sequences do not roll back).
            fields = covered_fields(VitalReading)
            seen["seals"] = sorted(
                (
                    row["taken_at"],
                    s.fields,
                    s.organization_id,
                    s.content_hash == row_hash(fields, [row[name] for name in fields]),
                )
                for s in seals
                for row in VitalReading.objects.filter(pk=int(s.object_id)).values(
                    *fields
                )
            )
            seen["seal_count"] = seals.count() == len(ids)
            seen["seal_problems"] = verify_seals()
            seen["urgent"] = Notification.objects.filter(
                urgency=Notification.Urgency.URGENT
            ).count()
            seen["recorded"] = list(
                AuditEvent.objects.filter(
                    action=AuditEvent.Action.INFUSION_VITALS_RECORDED
                )
                .order_by("-id")
                .values_list("data", flat=True)[:1]
            )
            raise _Rollback
    except _Rollback:
        pass
    return seen


def _both(
    session: InfusionSession,
    feed: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    **kwargs: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    now = kwargs.pop("now", timezone.now())
    batch = _outcome(
        session,
        feed,
        insert=monitoring._insert,
        monkeypatch=monkeypatch,
        now=now,
        **kwargs,
    )
    single = _outcome(
        session,
        feed,
        insert=_insert_one_by_one,
        monkeypatch=monkeypatch,
        now=now,
        **kwargs,
    )
    return batch, single


def _fresh(session: InfusionSession) -> datetime:
    now = timezone.now()
    unguarded_update(session.vitals, taken_at=now - timedelta(minutes=25))
    return now


def test_a_monitor_batch_stores_the_same_rows_and_seals_as_one_by_one(
    running: InfusionSession, monitor: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = _fresh(running)
    feed = [
        factories.reading(now - timedelta(seconds=s), monitor, heart_rate_bpm=70 + s)
        for s in range(10)
    ]
    batch, single = _both(running, feed, monkeypatch, now=now)
    assert batch["result"] == single["result"] == (10, 0)
    assert batch["rows"] == single["rows"]
    assert batch["seals"] == single["seals"]
    assert len(batch["seals"]) == 10
    assert all(seal[3] for seal in batch["seals"])
    assert batch["seal_count"]
    assert single["seal_count"]
    assert batch["seal_problems"] == single["seal_problems"] == []
    assert batch["recorded"] == single["recorded"]
    assert batch["recorded"][0]["count"] == 10


def test_a_critical_reading_in_a_batch_raises_the_same_alarm_and_urgent_message(
    running: InfusionSession, monitor: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = _fresh(running)
    feed = [
        factories.reading(now - timedelta(seconds=9 - s), monitor) for s in range(9)
    ] + [factories.reading(now, monitor, spo2_percent=84)]
    batch, single = _both(running, feed, monkeypatch, now=now)
    assert batch["alarms"] == single["alarms"]
    codes = [alarm[0] for alarm in batch["alarms"]]
    assert codes
    assert all(alarm[1] == "critical" for alarm in batch["alarms"])
    assert batch["urgent"] == single["urgent"] == 1
    assert batch["rows"] == single["rows"]


def test_resent_and_repeated_readings_in_a_batch_count_as_duplicates_both_ways(
    running: InfusionSession, monitor: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = _fresh(running)
    first = factories.reading(now - timedelta(seconds=5), monitor)
    monitoring.ingest_readings(running, [first], source=MONITOR, now=now, by=None)
    again = factories.reading(now - timedelta(seconds=4), monitor)
    feed = [first, again, again]  # one already stored, one repeated in the batch
    batch, single = _both(running, feed, monkeypatch, now=now)
    assert batch["result"] == single["result"] == (1, 2)
    assert batch["rows"] == single["rows"]
    assert batch["seals"] == single["seals"]


def test_typed_readings_keep_their_maker_in_a_batch(
    running: InfusionSession, nurse: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = _fresh(running)
    feed = [
        factories.NORMAL
        | {"taken_at": (now - timedelta(minutes=m)).isoformat(), "client_key": key}
        for m, key in (
            (2, "1d6f4c1e-8b1a-4a55-9e7c-0d6b0f6d2a11"),
            (1, "2d6f4c1e-8b1a-4a55-9e7c-0d6b0f6d2a11"),
        )
    ]
    batch, single = _both(running, feed, monkeypatch, now=now, source=TYPED, by=nurse)
    assert batch["rows"] == single["rows"]
    assert {row[_ROW.index("entered_by_id")] for row in batch["rows"][-2:]} == {
        nurse.pk
    }


def test_a_reading_stored_by_a_concurrent_request_is_skipped_not_lost(
    running: InfusionSession, monitor: Device
) -> None:
    """Nothing is looked up before the INSERT: a reading another request stored
    first (or a resend) is skipped by the INSERT itself, the others are stored and
    sealed, and the skipped one is counted as a duplicate."""
    now = _fresh(running)
    stored = factories.reading(now - timedelta(seconds=3), monitor)
    monitoring.ingest_readings(running, [stored], source=MONITOR, now=now, by=None)
    feed = [factories.reading(now - timedelta(seconds=s), monitor) for s in range(5)]
    result = monitoring.ingest_readings(running, feed, source=MONITOR, now=now, by=None)
    assert (len(result.accepted), result.duplicates) == (4, 1)
    assert running.vitals.filter(device_key=str(monitor.uuid)).count() == 5
    assert verify_seals() == []
    assert sorted(r.taken_at for r in result.accepted) == sorted(
        now - timedelta(seconds=s) for s in (0, 1, 2, 4)
    )
    assert all(r.pk is not None for r in result.accepted)
    assert (
        Seal.objects.filter(
            model="infusions.vitalreading",
            object_id__in=[str(r.pk) for r in result.accepted],
        ).count()
        == 4
    )


def test_a_typed_reading_resent_with_its_client_key_is_a_duplicate(
    running: InfusionSession, nurse: User
) -> None:
    now = _fresh(running)
    key = "3d6f4c1e-8b1a-4a55-9e7c-0d6b0f6d2a11"
    typed = factories.NORMAL | {
        "taken_at": (now - timedelta(minutes=1)).isoformat(),
        "client_key": key,
    }
    first = monitoring.ingest_readings(
        running, [typed], source=TYPED, now=now, by=nurse
    )
    again = monitoring.ingest_readings(
        running, [typed], source=TYPED, now=now, by=nurse
    )
    assert (len(first.accepted), first.duplicates) == (1, 0)
    assert (len(again.accepted), again.duplicates) == (0, 1)
    assert running.vitals.filter(client_key=key).count() == 1


def test_a_closed_session_still_takes_no_batch(
    running: InfusionSession, monitor: Device
) -> None:
    unguarded_update(
        InfusionSession.objects.filter(pk=running.pk),
        status=InfusionSession.Status.CANCELLED,
    )
    with pytest.raises(InfusionError, match="takes no more readings"):
        monitoring.ingest_readings(
            running,
            [factories.reading(timezone.now(), monitor)],
            source=MONITOR,
            by=None,
        )
    assert not running.vitals.filter(source=MONITOR).exists()
