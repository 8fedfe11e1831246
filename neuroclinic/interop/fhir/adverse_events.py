"""FHIR R4 AdverseEvent: one TMS adverse-event report (neuroclinic.tms.AdverseEvent)
with its physician's signed review, if any (docs/fhir.md, "AdverseEvent").

- `event`: the report's kind in a local CodeSystem (no standard code was checked for
  our kinds), the kind's label as display; `event.text` is the label and the report's
  description ("Seizure: <description>"). R4 AdverseEvent has no `note`: the
  description is kept in `event.text`, the review's note in the causality's
  `assessment.text`.
- `seriousness`: `Serious` or `Non-serious` (adverse-event-seriousness); the report's
  criteria in words in `text`. One of them ("medically important event") has no code
  there, so no criterion is coded.
- `severity`: mild, moderate or severe (adverse-event-severity, the same three).
- `outcome`: the report's outcome as filed, the review's once reviewed
  (adverse-event-outcome; `OUTCOME` below).
- `suspectEntity`: the TMS session (`Procedure/<session uuid>`) when the report names
  one, else the course in words (a display-only reference: a course is not served);
  with the review's causality (a local code: our four-point scale is not WHO-UMC's),
  its note, and the reviewer as author.

Pure module: standard library only.
"""

from datetime import datetime
from typing import Final
from uuid import UUID

from neuroclinic.interop.fhir.clinical import Resource, fhir_instant
from neuroclinic.interop.fhir.codes import LOCAL_BASE
from neuroclinic.interop.fhir.references import reference

EVENT_KINDS: Final = f"{LOCAL_BASE}/CodeSystem/tms-adverse-event-kind"
CAUSALITY: Final = f"{LOCAL_BASE}/CodeSystem/tms-adverse-event-causality"
SERIOUSNESS: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
SEVERITY: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
OUTCOMES: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"

# The report's outcome (tms.adverse_events.OUTCOME_CHOICES) -> adverse-event-outcome.
OUTCOME: Final = {
    "recovered": ("resolved", "Resolved"),
    "recovering": ("recovering", "Recovering"),
    "not_recovered": ("ongoing", "Ongoing"),
    "recovered_with_sequelae": ("resolvedWithSequelae", "Resolved with Sequelae"),
    "fatal": ("fatal", "Fatal"),
    "unknown": ("unknown", "Unknown"),
}
SEVERITIES: Final = {"mild": "Mild", "moderate": "Moderate", "severe": "Severe"}
# seriousness token -> serious?
SERIOUS_CODES: Final = {"Serious": True, "Non-serious": False}


def _coding(system: str, code: str, display: str) -> Resource:
    return {"system": system, "code": code, "display": display}


def adverse_event_resource(
    *,
    event_id: UUID,
    patient_id: UUID,
    kind: str,
    kind_label: str,
    description: str,
    severity: str,
    serious: bool,
    seriousness_labels: list[str],
    onset: datetime,
    recorded: datetime,
    recorder_id: UUID,
    outcome: str,
    outcome_label: str,
    location_id: UUID | None,
    procedure_id: UUID | None,
    course_text: str,
    causality: str | None = None,
    causality_label: str = "",
    causality_note: str = "",
    reviewer_id: UUID | None = None,
    version_id: str = "1",
    last_updated: datetime | None = None,
) -> Resource:
    """A report as filed (no causality), or as reviewed (`causality` given, with the
    review's outcome passed as `outcome`)."""
    if outcome not in OUTCOME:
        raise ValueError(f"unknown adverse-event outcome {outcome!r}")
    if severity not in SEVERITIES:
        raise ValueError(f"unknown adverse-event severity {severity!r}")
    text = f"{kind_label}: {description}" if description.strip() else kind_label
    serious_code = "Serious" if serious else "Non-serious"
    seriousness: Resource = {
        "coding": [_coding(SERIOUSNESS, serious_code, serious_code)]
    }
    if seriousness_labels:
        seriousness["text"] = f"{serious_code}: {', '.join(seriousness_labels)}"
    outcome_code, outcome_display = OUTCOME[outcome]
    resource: Resource = {
        "resourceType": "AdverseEvent",
        "id": str(event_id),
        "meta": {
            "versionId": version_id,
            "lastUpdated": fhir_instant(last_updated or recorded),
        },
        "actuality": "actual",
        "event": {
            "coding": [_coding(EVENT_KINDS, kind, kind_label)],
            "text": text,
        },
        "subject": reference("Patient", patient_id),
        "date": fhir_instant(onset),
        "recordedDate": fhir_instant(recorded),
        "seriousness": seriousness,
        "severity": {
            "coding": [_coding(SEVERITY, severity, SEVERITIES[severity])],
        },
        "outcome": {
            "coding": [_coding(OUTCOMES, outcome_code, outcome_display)],
            "text": outcome_label,
        },
        "recorder": reference("Practitioner", recorder_id),
    }
    if location_id is not None:
        resource["location"] = reference("Location", location_id)
    suspect: Resource = {
        "instance": (
            {**reference("Procedure", procedure_id), "display": course_text}
            if procedure_id is not None
            else {"display": course_text}
        )
    }
    if causality is not None:
        assessment = causality_label
        if causality_note.strip():
            assessment = f"{causality_label}: {causality_note.strip()}"
        found: Resource = {
            "assessment": {
                "coding": [_coding(CAUSALITY, causality, causality_label)],
                "text": assessment,
            }
        }
        if reviewer_id is not None:
            found["author"] = reference("Practitioner", reviewer_id)
        suspect["causality"] = [found]
    resource["suspectEntity"] = [suspect]
    return resource
