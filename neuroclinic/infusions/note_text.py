"""The infusion note, written from what was charted: nothing in it is typed twice.

`note_context` gathers the chart; the template `infusions/note.txt` says it, in the
location's time zone. The signed note stores the text and its SHA-256, so the wording
is pinned by golden files (infusions/tests/golden/): change them in the same commit.
"""

from datetime import datetime
from typing import Any

from django.db.models import ForeignKey
from django.template.loader import render_to_string

from neuroclinic.accounts.models import User
from neuroclinic.infusions.actions.common import SessionRows
from neuroclinic.infusions.models import (
    AdverseEvent,
    DoseRecord,
    InfusionSession,
    PrnGiven,
    RecoveryAssessment,
    SedationScore,
    SessionAlarm,
    SessionEvent,
    SessionQuestionnaire,
    VitalReading,
)
from neuroclinic.infusions.readiness import session_checklist, snapshot
from neuroclinic.infusions.recovery import MOAAS_LABELS

# Timeline lines the note leaves out: its own signatures, and the check-in the header says.
LEFT_OUT = (
    SessionEvent.Kind.CHECKED_IN,
    SessionEvent.Kind.NOTE_SIGNED,
    SessionEvent.Kind.NOTE_COSIGNED,
)


# What the note reads of the chart, each statement compiled once per connection
# (lib.compiled): the note is built at every signature and on the chart's preview.
_DOSE = SessionRows(
    lambda session_id: (
        DoseRecord.objects.filter(session_id=session_id)
        .select_related("calculated_by", "checked_by")
        .order_by("-calculated_at", "-id")[:1]
    )
)
_EVENTS = SessionRows(
    lambda session_id: (
        SessionEvent.objects.filter(session_id=session_id)
        .select_related("by")
        .exclude(kind__in=LEFT_OUT)
        .order_by("occurred_at", "id")
    )
)
_VITALS = SessionRows(
    lambda session_id: VitalReading.objects.filter(session_id=session_id).order_by(
        "taken_at", "id"
    )
)
_ALARMS = SessionRows(
    lambda session_id: (
        SessionAlarm.objects.filter(session_id=session_id)
        .select_related("acknowledged_by")
        .order_by("raised_at", "id")
    )
)
_ADVERSE_EVENTS = SessionRows(
    lambda session_id: AdverseEvent.objects.filter(session_id=session_id).order_by(
        "onset_at", "id"
    )
)
_PRN_GIVEN = SessionRows(
    lambda session_id: (
        PrnGiven.objects.filter(session_id=session_id)
        .select_related("given_by")
        .order_by("given_at", "id")
    )
)
_SEDATION = SessionRows(
    lambda session_id: SedationScore.objects.filter(session_id=session_id).order_by(
        "assessed_at", "id"
    )
)
_CADSS = SessionRows(
    lambda session_id: (
        SessionQuestionnaire.objects.filter(session_id=session_id)
        .select_related("response")
        .order_by("id")
    )
)
_ASSESSMENTS = SessionRows(
    lambda session_id: RecoveryAssessment.objects.filter(
        session_id=session_id
    ).order_by("assessed_at", "id")
)


def build_note(
    session: InfusionSession,
    *,
    signed_by: User | None = None,
    signed_at: datetime | None = None,
) -> str:
    text = render_to_string(
        "infusions/note.txt",
        note_context(session, signed_by=signed_by, signed_at=signed_at),
    )
    return text.removesuffix("\n")


def note_context(
    session: InfusionSession,
    *,
    signed_by: User | None = None,
    signed_at: datetime | None = None,
) -> dict[str, Any]:
    dose = _DOSE.first(session)
    _read_staff(session)
    return {
        "session": session,
        "patient": session.patient,
        "order": session.order,
        "zone": session.location.time_zone,
        "checklist": session.checklist_snapshot
        or snapshot(
            session_checklist(session, now=session.started_at or session.checked_in_at)
        ),
        "dose": dose,
        "entered_in_pounds": session.weight_entered
        if session.weight_entered.endswith(" lb")
        else "",
        "events": _EVENTS.all(session),
        "vital_phases": vital_phases(_VITALS.all(session)),
        "alarms": _ALARMS.all(session),
        "adverse_events": _ADVERSE_EVENTS.all(session),
        "prn_given": _PRN_GIVEN.all(session),
        "sedation": [
            {"row": score, "label": MOAAS_LABELS[score.score]}
            for score in _SEDATION.all(session)
        ],
        "cadss": _CADSS.all(session),
        "assessments": _ASSESSMENTS.all(session),
        "minutes_to_discharge": minutes_to_discharge(session),
        "signed_by": signed_by if signed_at is not None else None,
        "signed_at": signed_at,
    }


# The session's staff the note names, read together rather than one by one.
SESSION_STAFF = ("nurse", "checklist_confirmed_by", "discharged_by")


def _read_staff(session: InfusionSession) -> None:
    fields = [InfusionSession._meta.get_field(name) for name in SESSION_STAFF]
    wanted = {
        field: getattr(session, field.attname)
        for field in fields
        if isinstance(field, ForeignKey)
        and getattr(session, field.attname) is not None
        and not field.is_cached(session)
    }
    if not wanted:
        return
    users = User.objects.in_bulk(set(wanted.values()))
    for field, pk in wanted.items():
        if pk in users:
            field.set_cached_value(session, users[pk])


def vital_phases(readings: list[VitalReading]) -> list[dict[str, Any]]:
    """Per phase with readings: how many, the first and last, and the extremes that matter."""
    found = []
    for phase in VitalReading.Phase:
        rows = [r for r in readings if r.phase == phase]
        if rows:
            found.append(
                {
                    "label": phase.label,
                    "count": len(rows),
                    "first": rows[0],
                    "last": rows[-1],
                    "highest_systolic": max(r.systolic_mmhg for r in rows),
                    "highest_heart_rate": max(r.heart_rate_bpm for r in rows),
                    "lowest_spo2": min(r.spo2_percent for r in rows),
                    "lowest_respiratory_rate": min(
                        r.respiratory_rate_per_min for r in rows
                    ),
                    "ecg_rhythms": ecg_rhythms(rows),
                }
            )
    return found


def ecg_rhythms(rows: list[VitalReading]) -> str:
    """The ECG rhythms recorded, in the order first seen, each with its count ("" if none)."""
    counts: dict[str, int] = {}
    for r in rows:
        if r.ecg_rhythm:
            counts[r.ecg_rhythm_label] = counts.get(r.ecg_rhythm_label, 0) + 1
    return ", ".join(f"{label} x{n}" for label, n in counts.items())


def minutes_to_discharge(session: InfusionSession) -> int:
    if session.discharged_at is None or session.ended_at is None:
        return 0
    return int((session.discharged_at - session.ended_at).total_seconds() // 60)
