"""FHIR R4 Appointment, Schedule and Slot (the calendar) and Procedure (a TMS
session), from plain values (docs/fhir.md, "Scheduling and TMS").

- Appointment: one visit of the calendar (neuroclinic.scheduling.Appointment): the
  patient, the staff member and the location as participants, its time and status.
- Schedule: one staff shift (StaffShift): the staff member at a location, its
  planning horizon the shift's start and end.
- Slot: a free or busy stretch of a shift: the shift cut at the staff member's
  visits that hold their time. Slots carry no patient.
- Procedure: one TMS session (neuroclinic.tms.TmsSession), coded with the CPT code
  charted for it (90867, 90868 or 90869).

No profile is claimed: US Core 6.1 profiles none of these except Procedure, whose
profile wants a code from its own value set (CPT is in it, but the session's code
is a billing code chosen at the session, which we do not re-check here).

Pure module: standard library only.
"""

from datetime import datetime
from typing import Final
from uuid import UUID

from neuroclinic.interop.fhir.clinical import Resource, fhir_instant
from neuroclinic.interop.fhir.codes import LOCAL_BASE
from neuroclinic.interop.fhir.references import reference

CPT: Final = "http://www.ama-assn.org/go/cpt"
APPOINTMENT_TYPES: Final = f"{LOCAL_BASE}/CodeSystem/appointment-type"
_V2_0276: Final = "http://terminology.hl7.org/CodeSystem/v2-0276"
_PARTICIPANT_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

# Appointment.status (R4 value set appointmentstatus) from the calendar's status.
APPOINTMENT_STATUS: Final = {
    "booked": "booked",
    "confirmed": "booked",
    "move_requested": "booked",
    "moved": "booked",
    "checked_in": "checked-in",
    "cancelled": "cancelled",
    "late_cancel": "cancelled",
    "no_show": "noshow",
}
# FHIR appointment status -> the calendar's statuses (for search).
APPOINTMENT_STATUS_SEARCH: Final = {
    fhir: [ours for ours, f in APPOINTMENT_STATUS.items() if f == fhir]
    for fhir in sorted(set(APPOINTMENT_STATUS.values()))
}
# Procedure.status (R4 value set event-status) from the TMS session's status.
PROCEDURE_STATUS: Final = {
    "in_progress": "in-progress",
    "completed": "completed",
    "interrupted": "stopped",
    "seizure": "stopped",
}
PROCEDURE_STATUS_SEARCH: Final = {
    fhir: [ours for ours, f in PROCEDURE_STATUS.items() if f == fhir]
    for fhir in sorted(set(PROCEDURE_STATUS.values()))
}


def appointment_resource(
    *,
    appointment_id: UUID,
    patient_id: UUID,
    status: str,
    status_label: str,
    type_code: str,
    type_name: str,
    start: datetime,
    end: datetime,
    created: datetime,
    last_updated: datetime,
    location_id: UUID,
    location_name: str,
    staff_id: UUID | None,
    encounter_id: UUID | None = None,
) -> Resource:
    """A visit: patient, staff member and location take part (all accepted)."""
    if status not in APPOINTMENT_STATUS:
        raise ValueError(f"unknown appointment status {status!r}")
    participants: list[Resource] = [
        {"actor": reference("Patient", patient_id), "status": "accepted"}
    ]
    if staff_id is not None:
        participants.append(
            {
                "type": [
                    {
                        "coding": [
                            {
                                "system": _PARTICIPANT_TYPE,
                                "code": "PPRF",
                                "display": "primary performer",
                            }
                        ]
                    }
                ],
                "actor": reference("Practitioner", staff_id),
                "status": "accepted",
            }
        )
    participants.append(
        {
            "actor": {**reference("Location", location_id), "display": location_name},
            "status": "accepted",
        }
    )
    minutes = int((end - start).total_seconds() // 60)
    resource: Resource = {
        "resourceType": "Appointment",
        "id": str(appointment_id),
        "meta": {"lastUpdated": fhir_instant(last_updated)},
        "status": APPOINTMENT_STATUS[status],
        "appointmentType": {
            "coding": [
                {
                    "system": _V2_0276,
                    "code": "FOLLOWUP" if type_code == "follow_up" else "ROUTINE",
                }
            ]
        },
        "serviceType": [
            {
                "coding": [
                    {
                        "system": APPOINTMENT_TYPES,
                        "code": type_code,
                        "display": type_name,
                    }
                ],
                "text": type_name,
            }
        ],
        "description": f"{type_name} ({status_label.lower()})",
        "start": fhir_instant(start),
        "end": fhir_instant(end),
        "minutesDuration": max(minutes, 1),
        "created": fhir_instant(created),
        "participant": participants,
    }
    if encounter_id is not None:
        # R4 Appointment has no link to its Encounter; the Encounter's own
        # `appointment` element would be the place, so say it in words here.
        resource["comment"] = f"Checked in as Encounter/{encounter_id}."
    return resource


def schedule_resource(
    *,
    schedule_id: UUID,
    practitioner_id: UUID,
    practitioner_name: str,
    location_id: UUID,
    location_name: str,
    start: datetime,
    end: datetime,
) -> Resource:
    """A staff shift: who works where, and when."""
    return {
        "resourceType": "Schedule",
        "id": str(schedule_id),
        "active": True,
        "actor": [
            {
                **reference("Practitioner", practitioner_id),
                "display": practitioner_name,
            },
            {**reference("Location", location_id), "display": location_name},
        ],
        "planningHorizon": {"start": fhir_instant(start), "end": fhir_instant(end)},
        "comment": "A staff shift.",
    }


def slot_id(schedule_id: UUID, start: datetime) -> str:
    """`<shift uuid>-<start, seconds since 1970>`: 47 characters (FHIR allows 64)."""
    return f"{schedule_id}-{int(start.timestamp())}"


def slot_resource(
    *, schedule_id: UUID, start: datetime, end: datetime, busy: bool
) -> Resource:
    return {
        "resourceType": "Slot",
        "id": slot_id(schedule_id, start),
        "schedule": reference("Schedule", schedule_id),
        "status": "busy" if busy else "free",
        "start": fhir_instant(start),
        "end": fhir_instant(end),
    }


def cut_shift(
    start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime, bool]]:
    """The shift from `start` to `end` cut into free and busy stretches, in order:
    busy where any of `busy` (visits, in any order, perhaps overlapping or reaching
    past the shift) covers it, free elsewhere. Never empty."""
    spans = sorted(
        (max(s, start), min(e, end)) for s, e in busy if s < end and e > start
    )
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    out: list[tuple[datetime, datetime, bool]] = []
    at = start
    for s, e in merged:
        if s > at:
            out.append((at, s, False))
        out.append((s, e, True))
        at = e
    if at < end:
        out.append((at, end, False))
    return out


def procedure_resource(
    *,
    procedure_id: UUID,
    patient_id: UUID,
    status: str,
    status_label: str,
    cpt_code: str,
    protocol_name: str,
    number: int,
    total_sessions: int,
    target_text: str,
    start: datetime,
    end: datetime | None,
    operator_id: UUID,
    supervisor_id: UUID,
    location_id: UUID,
    pulses_delivered: int | None,
    pulses_planned: int,
    output_percent: int,
) -> Resource:
    """A TMS session: who gave it, under whose supervision, where, and what was given."""
    if status not in PROCEDURE_STATUS:
        raise ValueError(f"unknown TMS session status {status!r}")
    period: Resource = {"start": fhir_instant(start)}
    if end is not None:
        period["end"] = fhir_instant(end)
    delivered = (
        f"{pulses_delivered} of {pulses_planned} pulses"
        if pulses_delivered is not None
        else f"{pulses_planned} pulses planned"
    )
    resource: Resource = {
        "resourceType": "Procedure",
        "id": str(procedure_id),
        "meta": {"lastUpdated": fhir_instant(end if end is not None else start)},
        "status": PROCEDURE_STATUS[status],
        "code": {
            "coding": [{"system": CPT, "code": cpt_code}],
            "text": f"{protocol_name}, session {number} of {total_sessions}",
        },
        "subject": reference("Patient", patient_id),
        "performedPeriod": period,
        "performer": [
            {
                "function": {"text": "Operator"},
                "actor": reference("Practitioner", operator_id),
            },
            {
                "function": {"text": "Supervising physician"},
                "actor": reference("Practitioner", supervisor_id),
            },
        ],
        "location": reference("Location", location_id),
        "bodySite": [{"text": target_text}],
        "note": [{"text": f"{delivered} at {output_percent} % machine output."}],
    }
    if PROCEDURE_STATUS[status] == "stopped":
        resource["statusReason"] = {"text": status_label}
    return resource
