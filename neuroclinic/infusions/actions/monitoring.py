"""Vital signs in, alarms out: the one path for typed, API and HL7 v2 readings.

`ingest_readings(session, readings, source=..., by=...)` takes readings as mappings
(what a form, a JSON body or a parsed ORU^R01 message gives), so the monitor API and
the HL7 v2/MLLP listener share it. Per reading: parse, check plausibility
(vitals.check_plausible), de-duplicate on (device, device timestamp), then store in
time order. A reading that cannot be stored is kept as it arrived, with the reasons
(RejectedReading), so nothing a monitor sent is lost; so is a body that is not even
JSON (`keep_unreadable`). After storing, the protocol's alarm rules
(vitals.evaluate_alarms) run over the session's recent readings.

Every writer here runs in one transaction with its audit event: readings stored
(`infusions.vitals_recorded`), readings kept as refused (`infusions.vitals_rejected`),
an alarm raised, cleared by the rules, or acknowledged.
"""

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Field,
    Model,
    Subquery,
    Value,
)
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.audit.seals import seals_from_rows
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    InfusionSession,
    RejectedReading,
    SessionAlarm,
    VitalReading,
)
from neuroclinic.lib import vitals
from neuroclinic.lib.compiled import CompiledGet, CompiledRows
from neuroclinic.notifications.actions import notify
from neuroclinic.treatment.models import Protocol

VALUE_FIELDS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate_per_min",
)
OPTIONAL_VALUE_FIELDS = ("etco2_mmhg",)
# A device clock a little ahead of ours is tolerated; more is a wrong clock.
CLOCK_SKEW = timedelta(minutes=2)
# Readings from well before check-in belong to someone else on that monitor.
BEFORE_CHECK_IN = timedelta(minutes=30)
# The alarm rules look back over the longest span a rule needs (plus a minute), and at
# least over as many readings as a rule counts: enough for "sustained for 5 min" on a
# monitor sending every second and for "two readings" typed ten minutes apart. Bounded,
# so a long session does not make every reading slower.
ALARM_MAX_READINGS = 2000
MAX_BATCH = 500
# What ingesting reads with the session row, in the statement that locks it: the
# columns it uses, the patient's organization and prescriber (every audit event names
# the patient; a critical alarm notifies the prescriber) and the protocol's alarm
# limits (the rules run on every request), nothing else. Each joined table costs
# the database planning time, and each column time to send and convert, on every
# request; the location (named in a refused reading's message) and the room (in a
# critical alarm's notice) are read when needed.
INGEST_RELATIONS = ("patient",)
INGEST_FIELDS = (
    "uuid",
    "organization",
    "patient__organization",
    "patient__prescriber",
    "order",
    "location",
    "room",
    "status",
    "checked_in_at",
    "started_at",
    "ended_at",
)
ALARM_THRESHOLDS = "ingest_alarm_thresholds"
INGEST_ANNOTATIONS = {ALARM_THRESHOLDS: F("order__protocol__alarm_thresholds")}


@dataclass(frozen=True)
class Rejected:
    index: int
    errors: dict[str, list[str]]


@dataclass
class IngestResult:
    accepted: list[VitalReading] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    alarms: list[SessionAlarm] = field(default_factory=list)  # active after this batch


@dataclass(frozen=True)
class _Parsed:
    index: int
    taken_at: datetime
    device_id: int | None
    device_key: str
    client_key: uuid.UUID | None
    values: dict[str, int]  # the five required vital signs
    etco2_mmhg: int | None
    ecg_rhythm: str = ""  # issue #14 item 8: optional, vitals.ECG_RHYTHMS
    ecg_rhythm_other: str = ""


def _whole_number(value: Any) -> int | None:
    """An int from an int, an integral float or Decimal, or digits in a string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _taken_at(raw: Any, now: datetime) -> datetime | str:
    if raw is None or raw == "":
        return "taken_at is required (the device's time of the reading)."
    moment = raw if isinstance(raw, datetime) else parse_datetime(str(raw))
    if moment is None:
        return f"taken_at {str(raw)[:40]!r} is not an ISO 8601 date and time."
    if timezone.is_naive(moment):
        return "taken_at needs a time zone (for example 2026-11-27T10:00:00Z)."
    if moment > now + CLOCK_SKEW:
        return "taken_at is in the future: check the device's clock."
    return moment


_MONITORS = CompiledRows(
    lambda location_id: (
        Device.objects.filter(
            location_id=location_id, kind=Device.Kind.MONITOR, is_active=True
        )
        .order_by()  # no ordering: the default one joins the location for nothing
        .values_list("id", "uuid", "serial_number")
    )
)


def _device(
    raw: Any, session: InfusionSession, devices: dict[str, tuple[int, str]]
) -> tuple[int, str] | str:
    key = str(raw).strip()
    if not key:
        return "device is required for monitor readings."
    found = devices.get(key) or devices.get(key.lower())
    if found is None:
        return f"device {key[:40]!r} is not a monitor at {session.location.name}."
    return found


def _monitors(session: InfusionSession) -> dict[str, tuple[int, str]]:
    """The location's active monitors (id, UUID), by UUID and by serial number."""
    found: dict[str, tuple[int, str]] = {}
    for device_id, device_uuid, serial_number in _MONITORS.rows(session.location_id):
        found[str(device_uuid)] = (device_id, str(device_uuid))
        if serial_number:
            found[serial_number] = found[str(device_uuid)]
    return found


def parse_reading(
    raw: Any,
    *,
    index: int,
    session: InfusionSession,
    source: VitalReading.Source,
    now: datetime,
    devices: dict[str, tuple[int, str]],
) -> _Parsed | Rejected:
    """One reading as given, checked; or the reasons per field it cannot be stored."""
    if not isinstance(raw, Mapping):
        return Rejected(index, {"reading": ["Each reading must be an object."]})
    errors: dict[str, list[str]] = {}
    values: dict[str, int | None] = {}
    for name in VALUE_FIELDS + OPTIONAL_VALUE_FIELDS:
        value = raw.get(name)
        if value is None or value == "":
            if name in VALUE_FIELDS:
                errors.setdefault(name, []).append(f"{name} is required.")
            values[name] = None
            continue
        number = _whole_number(value)
        if number is None:
            errors.setdefault(name, []).append(
                f"{name} must be a whole number, not {str(value)[:20]!r}."
            )
        values[name] = number
    ecg_rhythm = str(raw.get("ecg_rhythm") or "").strip()
    ecg_rhythm_other = str(raw.get("ecg_rhythm_other") or "").strip()
    for error in vitals.check_ecg_rhythm(ecg_rhythm, ecg_rhythm_other):
        errors.setdefault(error.field, []).append(_plain(error.message))
    if source == VitalReading.Source.TYPED:
        taken = _taken_at(raw.get("taken_at") or now, now)
    else:
        taken = _taken_at(raw.get("taken_at"), now)
    if isinstance(taken, str):
        errors.setdefault("taken_at", []).append(taken)
    elif taken < session.checked_in_at - BEFORE_CHECK_IN:
        errors.setdefault("taken_at", []).append(
            "taken_at is from before this patient checked in."
        )
    device_id: int | None = None
    device_key = ""
    if source != VitalReading.Source.TYPED:
        found = _device(raw.get("device", ""), session, devices)
        if isinstance(found, str):
            errors.setdefault("device", []).append(found)
        else:
            device_id, device_key = found
    client_key: uuid.UUID | None = None
    if raw.get("client_key"):
        try:
            client_key = uuid.UUID(str(raw["client_key"]))
        except ValueError:
            errors.setdefault("client_key", []).append("client_key must be a UUID.")
    if not errors:
        plausible = vitals.check_plausible(
            vitals.VitalSigns(
                systolic_mmhg=values["systolic_mmhg"] or 0,
                diastolic_mmhg=values["diastolic_mmhg"] or 0,
                heart_rate_bpm=values["heart_rate_bpm"] or 0,
                spo2_percent=values["spo2_percent"] or 0,
                respiratory_rate_per_min=values["respiratory_rate_per_min"] or 0,
                etco2_mmhg=values["etco2_mmhg"],
            )
        )
        for error in plausible:
            errors.setdefault(error.field, []).append(_plain(error.message))
    if errors:
        return Rejected(index, errors)
    assert isinstance(taken, datetime)
    required = {name: values[name] for name in VALUE_FIELDS}
    return _Parsed(
        index,
        taken,
        device_id,
        device_key,
        client_key,
        {name: value for name, value in required.items() if value is not None},
        values["etco2_mmhg"],
        ecg_rhythm,
        ecg_rhythm_other,
    )


_NAMES = {
    "ecg_rhythm_other": "ECG rhythm description",
    "ecg_rhythm": "ECG rhythm",
    "systolic_mmhg": "Systolic BP",
    "diastolic_mmhg": "Diastolic BP",
    "heart_rate_bpm": "Heart rate",
    "spo2_percent": "SpO2",
    "respiratory_rate_per_min": "Respiratory rate",
    "etco2_mmhg": "EtCO2",
}


def _plain(message: str) -> str:
    """vitals' messages name fields as code; say them as the nurse reads them."""
    for name, label in _NAMES.items():
        message = message.replace(name, label)
    return message[:1].upper() + message[1:]


def _phase(session: InfusionSession, taken_at: datetime) -> VitalReading.Phase:
    if session.started_at is None or taken_at < session.started_at:
        return VitalReading.Phase.BASELINE
    if session.ended_at is None or taken_at < session.ended_at:
        return VitalReading.Phase.INFUSION
    return VitalReading.Phase.RECOVERY


def _insert(readings: list[VitalReading]) -> list[VitalReading]:
    """Store the batch in one statement, skipping readings already stored; the stored ones, in order.

    `INSERT ... ON CONFLICT DO NOTHING RETURNING` every column: a reading whose
    (device, taken_at) or client_key is already stored (a resend, or another
    request that stored it in the meantime) is skipped by the database, with no
    look-up before and no savepoint around it. The rows it gives back are the
    rows as stored, so they are sealed from them (seals_from_rows) without
    reading them again. bulk_create cannot do this: with ignore_conflicts it
    returns no keys.
    """
    if not readings:
        return []
    meta = VitalReading._meta
    columns = list(meta.concrete_fields)
    written = [f for f in columns if f is not meta.pk]
    rows = _insert_skipping_conflicts(readings, written, columns)
    names = [f.attname for f in columns]
    stored_rows = [dict(zip(names, row, strict=True)) for row in rows]
    # Which reading each row is: by its content (the order RETURNING gives rows
    # in is not promised). Readings identical in every value are interchangeable.
    by_content: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in stored_rows:
        by_content.setdefault(_content(row), []).append(row)
    stored: list[VitalReading] = []
    for reading in readings:
        found = by_content.get(_content(vars(reading)))
        if found:
            reading.pk = found.pop()["id"]
            reading._state.adding = False
            reading._state.db = "default"
            stored.append(reading)
    if len(stored) != len(stored_rows):
        raise RuntimeError("A stored reading did not come back as it was sent.")
    seals_from_rows(VitalReading, stored_rows)
    return stored


def _insert_skipping_conflicts(
    readings: list[VitalReading],
    written: list[Field[Any, Any]],
    columns: list[Field[Any, Any]],
) -> list[tuple[Any, ...]]:
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING columns`, the values converted as a read's.

    Django writes OnConflict.IGNORE as `INSERT OR IGNORE` on SQLite, which also
    skips rows that break a NOT NULL or CHECK constraint: such a row would be
    counted as a duplicate and lost. The upsert clause skips only uniqueness
    conflicts, as PostgreSQL's does, so it is used on both.
    """
    query = InsertQuery(VitalReading, on_conflict=OnConflict.IGNORE)
    objects: list[Model] = list(readings)
    query.insert_values(written, objects)
    compiler = query.get_compiler(using="default")
    compiler.returning_fields = columns
    ((statement, params),) = compiler.as_sql()
    if connection.vendor == "sqlite":
        statement = statement.replace("INSERT OR IGNORE INTO", "INSERT INTO", 1)
        statement = statement.replace(
            " RETURNING ", " ON CONFLICT DO NOTHING RETURNING ", 1
        )
    if "ON CONFLICT DO NOTHING RETURNING" not in statement:
        raise RuntimeError(f"Unexpected insert for {connection.vendor}.")
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    cols = [f.get_col(VitalReading._meta.db_table) for f in columns]
    converters = compiler.get_converters(cols)
    return list(compiler.apply_converters(rows, converters)) if converters else rows


_CONTENT = (
    "session_id",
    "taken_at",
    "source",
    "phase",
    "device_key",
    "client_key",
    "entered_by_id",
    *VALUE_FIELDS,
    *OPTIONAL_VALUE_FIELDS,
    "ecg_rhythm",
    "ecg_rhythm_other",
)


def _content(values: Mapping[str, Any]) -> tuple[Any, ...]:
    # Choices as their stored text (an enum member hashes by its name, not its value).
    return tuple(
        value.value if isinstance(value, Enum) else value
        for value in (values[name] for name in _CONTENT)
    )


# Compiled once per connection (lib.compiled), as the session locks are: the demo and
# every monitor batch lock the row this way (issue 18, item 10).
_locked_for_ingest = CompiledGet(
    lambda: (
        InfusionSession.objects.select_for_update(of=("self",))
        .select_related(*INGEST_RELATIONS)
        .only(*INGEST_FIELDS)
        .annotate(**INGEST_ANNOTATIONS)
    )
)


@transaction.atomic
def ingest_readings(
    session: InfusionSession,
    readings: Sequence[Any],
    *,
    source: VitalReading.Source,
    now: datetime | None = None,
    by: User | None,
) -> IngestResult:
    """Store what can be stored, keep what cannot with its reasons, then re-run the alarms.

    Idempotent on (device, taken_at) for monitors and on client_key for typed
    readings: a resend stores nothing new and counts as a duplicate.
    """
    session = _locked_for_ingest(session.pk)
    return ingest_into_locked(session, readings, source=source, now=now, by=by)


def ingest_into_locked(
    session: InfusionSession,
    readings: Sequence[Any],
    *,
    source: VitalReading.Source,
    now: datetime | None = None,
    by: User | None,
) -> IngestResult:
    """ingest_readings for a caller that has locked the session row in its own
    transaction, with INGEST_RELATIONS, INGEST_FIELDS and INGEST_ANNOTATIONS (the monitor API,
    whose access check is the lock: access.lock_session_row_for_user). No
    savepoint of its own."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ingest_into_locked needs the caller's transaction.")
    now = now or timezone.now()
    if len(readings) > MAX_BATCH:
        raise InfusionError(
            f"At most {MAX_BATCH} readings per request.", field="readings"
        )
    if not session.is_open:
        raise InfusionError(
            f"This infusion is {session.get_status_display().lower()}: it takes no more readings.",
            field="session",
        )
    devices = _monitors(session) if source != VitalReading.Source.TYPED else {}
    result = IngestResult()
    parsed: list[_Parsed] = []
    for index, raw in enumerate(readings):
        outcome = parse_reading(
            raw, index=index, session=session, source=source, now=now, devices=devices
        )
        if isinstance(outcome, Rejected):
            result.rejected.append(outcome)
        else:
            parsed.append(outcome)
    for rejected in result.rejected:
        raw = readings[rejected.index]
        RejectedReading.objects.create(
            organization_id=session.organization_id,
            session=session,
            received_at=now,
            source=source,
            payload=json.loads(json.dumps(raw, default=str)),
            errors=rejected.errors,
            received_by=by,
        )
    # Repeats within the request are dropped here; readings stored before (a
    # resend, a concurrent request) are skipped by the INSERT itself (_insert).
    seen: set[tuple[str, datetime]] = set()
    seen_clients: set[uuid.UUID] = set()
    fresh: list[VitalReading] = []
    for item in sorted(parsed, key=lambda p: (p.taken_at, p.index)):
        key = (item.device_key, item.taken_at)
        if (item.device_key and key in seen) or (
            item.client_key is not None and item.client_key in seen_clients
        ):
            result.duplicates += 1
            continue
        if item.device_key:
            seen.add(key)
        if item.client_key is not None:
            seen_clients.add(item.client_key)
        fresh.append(
            VitalReading(
                organization_id=session.organization_id,
                session=session,
                taken_at=item.taken_at,
                received_at=now,
                source=source,
                phase=_phase(session, item.taken_at),
                device_id=item.device_id,
                device_key=item.device_key,
                client_key=item.client_key,
                entered_by=by if source == VitalReading.Source.TYPED else None,
                systolic_mmhg=item.values["systolic_mmhg"],
                diastolic_mmhg=item.values["diastolic_mmhg"],
                heart_rate_bpm=item.values["heart_rate_bpm"],
                spo2_percent=item.values["spo2_percent"],
                respiratory_rate_per_min=item.values["respiratory_rate_per_min"],
                etco2_mmhg=item.etco2_mmhg,
                ecg_rhythm=item.ecg_rhythm or None,
                ecg_rhythm_other=item.ecg_rhythm_other or None,
            )
        )
    stored = _insert(fresh)
    result.duplicates += len(fresh) - len(stored)
    result.accepted.extend(stored)
    if result.accepted:
        record(
            AuditEvent.Action.INFUSION_VITALS_RECORDED,
            actor=by,
            patient=session.patient,
            subject=session,
            source=str(source),
            count=len(result.accepted),
            duplicates=result.duplicates,
        )
    if result.rejected:
        record(
            AuditEvent.Action.INFUSION_VITALS_REJECTED,
            actor=by,
            patient=session.patient,
            subject=session,
            source=str(source),
            count=len(result.rejected),
            fields=sorted({f for r in result.rejected for f in r.errors}),
        )
    result.alarms = (
        update_alarms(session, now=now) if result.accepted else active_alarms(session)
    )
    return result


@transaction.atomic
def record_typed_vitals(
    session: InfusionSession,
    values: Mapping[str, Any],
    *,
    taken_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> IngestResult:
    """A nurse's typed reading: refused with a message per field (nothing stored) when implausible."""
    now = now or timezone.now()
    raw = dict(values) | {"taken_at": taken_at or now}
    if client_key is not None:
        raw["client_key"] = str(client_key)
    # Locked as ingest_readings locks it, once: the reading is checked and stored
    # under the same lock.
    session = _locked_for_ingest(session.pk)
    checked = parse_reading(
        raw,
        index=0,
        session=session,
        source=VitalReading.Source.TYPED,
        now=now,
        devices={},
    )
    if isinstance(checked, Rejected):
        first = next(iter(checked.errors.values()))[0]
        raise InfusionError(first, errors=checked.errors)
    return ingest_into_locked(
        session,
        [raw],
        source=VitalReading.Source.TYPED,
        now=now,
        by=by,
    )


def active_alarms(session: InfusionSession) -> list[SessionAlarm]:
    return list(session.alarms.filter(cleared_at__isnull=True).order_by("-raised_at"))


_ALARM_FIELDS = (
    "taken_at",
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate_per_min",
    "etco2_mmhg",
)


def _alarm_span(thresholds: vitals.AlarmThresholds) -> timedelta:
    """How far back from the newest reading the rules look: their longest span, plus a minute."""
    span = max(
        int(getattr(thresholds, f.name))
        for f in dataclass_fields(thresholds)
        if f.name.endswith("_min_span_minutes")
    )
    return timedelta(minutes=span + 1)


def _alarm_count(thresholds: vitals.AlarmThresholds) -> int:
    """The most readings in a row any rule counts."""
    return max(
        int(getattr(thresholds, f.name))
        for f in dataclass_fields(thresholds)
        if f.name.endswith("_consecutive_readings")
    )


def _timed(rows: Sequence[tuple[Any, ...]]) -> list[vitals.TimedVitalSigns]:
    """Rows of _ALARM_FIELDS as the rules take them, in the order given."""
    return [
        vitals.TimedVitalSigns(
            row[0],
            vitals.VitalSigns(
                systolic_mmhg=row[1],
                diastolic_mmhg=row[2],
                heart_rate_bpm=row[3],
                spo2_percent=row[4],
                respiratory_rate_per_min=row[5],
                etco2_mmhg=row[6],
            ),
        )
        for row in rows
    ]


def alarm_window(
    session: InfusionSession, thresholds: vitals.AlarmThresholds
) -> list[vitals.TimedVitalSigns]:
    """The readings the alarm rules need, oldest first (see ALARM_MAX_READINGS).

    Read as plain values, not model instances: on a monitor sending every second the
    window holds a few hundred readings. `alarm_readings` reads it only when the
    newest few readings do not settle the rules.
    """
    count = _alarm_count(thresholds)
    ordered = session.vitals.order_by("-taken_at", "-id")
    # One statement on a steady feed: the readings within the span of the
    # newest (the newest found by a subquery), which is a prefix of `ordered`.
    # Only when that holds fewer than the rules' consecutive count (a sparse
    # feed) are the newest count + 1 read instead, whatever their age.
    newest_at = Subquery(
        VitalReading.objects.filter(session_id=session.pk)
        .order_by("-taken_at")
        .values("taken_at")[:1]
    )
    recent = list(
        ordered.filter(
            taken_at__gte=ExpressionWrapper(
                newest_at - Value(_alarm_span(thresholds)),
                output_field=DateTimeField(),
            )
        ).values_list(*_ALARM_FIELDS)[:ALARM_MAX_READINGS]
    )
    if not recent:
        return []  # the newest reading is always within its own span: none at all
    chosen = recent
    if len(recent) < count + 1:
        chosen = list(ordered.values_list(*_ALARM_FIELDS)[: count + 1])
    return _timed(chosen[::-1])


@functools.cache
def _newest_readings(count: int) -> CompiledRows:
    """The newest `count` readings (_ALARM_FIELDS) and whether any alarm is open, per session."""
    return CompiledRows(
        lambda session_id: (
            VitalReading.objects.filter(session_id=session_id)
            .order_by("-taken_at", "-id")
            .annotate(
                alarms_open=Exists(
                    SessionAlarm.objects.filter(
                        session_id=session_id, cleared_at__isnull=True
                    )
                )
            )
            .values_list(*_ALARM_FIELDS, "alarms_open")[:count]
        )
    )


@dataclass(frozen=True)
class AlarmInput:
    readings: list[vitals.TimedVitalSigns]  # oldest first
    # Whether the session has alarms not cleared, read in the same statement (None:
    # not read, look).
    alarms_open: bool | None


def alarm_readings(
    session: InfusionSession, thresholds: vitals.AlarmThresholds
) -> AlarmInput:
    """Readings that give the rules the same alarms as the whole `alarm_window`, oldest first.

    The newest count + 1 readings first (count: the most readings in a row any
    rule counts), in one statement that also says whether any alarm of the
    session is open. They are the window itself when they are not all inside
    the rules' span of the newest (alarm_window then reads exactly these), or
    when the session has no more. Otherwise they are the window's newest end,
    and when they hold, for every warning rule, a reading that does not breach
    it (`vitals.earlier_readings_matter`), older readings cannot change the
    alarms: on a feed within its limits a few rows are read instead of every
    reading of the last minutes. Else the window is read.
    """
    newest = _newest_readings(_alarm_count(thresholds) + 1).rows(session.pk)
    if not newest:
        return AlarmInput([], None)
    latest = _timed(newest[::-1])
    alarms_open = bool(newest[0][-1])
    if (
        len(newest) <= _alarm_count(thresholds)
        or newest[-1][0] < newest[0][0] - _alarm_span(thresholds)
        or not vitals.earlier_readings_matter(latest, thresholds)
    ):
        return AlarmInput(latest, alarms_open)
    return AlarmInput(alarm_window(session, thresholds), alarms_open)


def _thresholds(session: InfusionSession) -> vitals.AlarmThresholds:
    """The protocol's alarm limits: read with the locked row (INGEST_ANNOTATIONS), else through the order."""
    if hasattr(session, ALARM_THRESHOLDS):
        return Protocol(
            alarm_thresholds=getattr(session, ALARM_THRESHOLDS)
        ).thresholds()
    return session.order.protocol.thresholds()


@transaction.atomic(savepoint=False)
def update_alarms(session: InfusionSession, *, now: datetime) -> list[SessionAlarm]:
    """Raise what the protocol's rules say now, clear what no longer holds. Call with the
    session row locked (ingest_readings does): inside that transaction, no savepoint."""
    thresholds = _thresholds(session)
    evidence = alarm_readings(session, thresholds)
    current = {
        alarm.code: alarm
        for alarm in vitals.evaluate_alarms(evidence.readings, thresholds)
    }
    active: dict[str, SessionAlarm] = {}
    if evidence.alarms_open is not False:  # none open: nothing to clear or to update
        active = {
            a.code: a
            for a in SessionAlarm.objects.filter(
                session=session, cleared_at__isnull=True
            )
        }
    for code, alarm in active.items():
        if code not in current:
            alarm.cleared_at = now
            alarm.save(update_fields=["cleared_at"])
            record(
                AuditEvent.Action.INFUSION_ALARM_CLEARED,
                actor=None,
                actor_username="alarm rules",
                patient=session.patient,
                subject=alarm,
                code=alarm.code,
            )
    for code, found in current.items():
        existing = active.get(code)
        if existing is not None:
            if existing.reading_taken_at != found.taken_at:
                existing.message = found.message[:300]
                existing.reading_taken_at = found.taken_at
                existing.save(update_fields=["message", "reading_taken_at"])
            continue
        raised = SessionAlarm.objects.create(
            session=session,
            code=str(found.code),
            severity=str(found.severity),
            message=found.message[:300],
            action=found.action,
            source=found.source,
            raised_at=now,
            reading_taken_at=found.taken_at,
        )
        record(
            AuditEvent.Action.INFUSION_ALARM_RAISED,
            actor=None,
            actor_username="alarm rules",
            patient=session.patient,
            subject=raised,
            code=raised.code,
            severity=raised.severity,
            message=raised.message,
        )
        prescriber = session.patient.prescriber
        if found.severity is vitals.AlarmSeverity.CRITICAL and prescriber is not None:
            notify(
                prescriber,
                subject=f"Critical infusion alarm in {session.room.name}",
                body=raised.message,
                link=reverse(
                    "infusions:session", kwargs={"session_uuid": session.uuid}
                ),
                urgent=True,
            )
        active[code] = raised
    # What is active now, newest first (as active_alarms() reads it), without reading it again.
    return sorted(
        (alarm for code, alarm in active.items() if code in current),
        key=lambda alarm: alarm.raised_at,
        reverse=True,
    )


@transaction.atomic
def acknowledge_alarm(
    alarm: SessionAlarm,
    *,
    note: str = "",
    now: datetime | None = None,
    by: User,
) -> SessionAlarm:
    alarm = (
        SessionAlarm.objects.select_for_update()
        .select_related("session")
        .get(pk=alarm.pk)
    )
    if alarm.acknowledged_at is not None:
        raise InfusionError("This alarm was already acknowledged.", field="alarm")
    alarm.acknowledged_at = now or timezone.now()
    alarm.acknowledged_by = by
    alarm.acknowledgment_note = note.strip()[:300]
    alarm.save(
        update_fields=["acknowledged_at", "acknowledged_by", "acknowledgment_note"]
    )
    record(
        AuditEvent.Action.INFUSION_ALARM_ACKNOWLEDGED,
        actor=by,
        patient=alarm.session.patient,
        subject=alarm,
        code=alarm.code,
        note=alarm.acknowledgment_note,
    )
    return alarm


@transaction.atomic
def keep_unreadable(
    session: InfusionSession,
    raw: bytes,
    *,
    source: VitalReading.Source,
    now: datetime | None = None,
    by: User | None,
) -> RejectedReading:
    """Even a body that is not JSON is kept (its first 10,000 bytes), so nothing a monitor
    sent is lost, and the refusal is on the audit log."""
    kept = RejectedReading.objects.create(
        organization_id=session.organization_id,
        session=session,
        received_at=now or timezone.now(),
        source=source,
        payload=raw[:10_000].decode("utf-8", errors="replace"),
        errors={"body": ["not JSON"]},
        received_by=by,
    )
    record(
        AuditEvent.Action.INFUSION_VITALS_REJECTED,
        actor=by,
        patient=session.patient,
        subject=session,
        source=str(source),
        count=1,
        fields=["body"],
    )
    return kept
