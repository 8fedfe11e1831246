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
from neuroclinic.infusions.models import InfusionSession, SessionEvent, VitalReading
from neuroclinic.infusions.readiness import session_checklist, snapshot
from neuroclinic.infusions.recovery import MOAAS_LABELS

# Timeline lines the note leaves out: its own signatures, and the check-in the header says.
LEFT_OUT = (
    SessionEvent.Kind.CHECKED_IN,
    SessionEvent.Kind.NOTE_SIGNED,
    SessionEvent.Kind.NOTE_COSIGNED,
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
    dose = (
        session.doses.select_related("calculated_by", "checked_by")
        .order_by("-calculated_at", "-id")
        .first()
    )
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
        "events": session.events.select_related("by")
        .exclude(kind__in=LEFT_OUT)
        .order_by("occurred_at", "id"),
        "vital_phases": vital_phases(list(session.vitals.order_by("taken_at", "id"))),
        "alarms": session.alarms.select_related("acknowledged_by").order_by(
            "raised_at", "id"
        ),
        "adverse_events": session.adverse_events.order_by("onset_at", "id"),
        "prn_given": session.prn_given.select_related("given_by").order_by(
            "given_at", "id"
        ),
        "sedation": [
            {"row": score, "label": MOAAS_LABELS[score.score]}
            for score in session.sedation_scores.order_by("assessed_at", "id")
        ],
        "cadss": session.questionnaires.select_related("response").order_by("id"),
        "assessments": session.recovery_assessments.order_by("assessed_at", "id"),
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
