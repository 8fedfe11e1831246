"""TMS adverse-event reports: filed (by hand, or by the seizure path and a manic switch)
and reviewed by a physician with a signature. Rules: tms/adverse_events.py; docs/tms.md.

A report is its own record, append-only and sealed; it never changes. What the
physician concludes later (causality, the outcome by then) is the signed review.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.tms import adverse_events
from neuroclinic.tms.actions.common import now_or, require_physician
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import (
    AdverseEvent,
    AdverseEventReview,
    SeizureEvent,
    TmsCourse,
    TmsSession,
)
from neuroclinic.treatment.actions.signatures import confirm_signature, content_hash
from neuroclinic.treatment.errors import TreatmentError


def _file(
    course: TmsCourse,
    *,
    session: TmsSession | None,
    seizure: SeizureEvent | None = None,
    kind: str,
    description: str,
    severity: str,
    serious: bool,
    seriousness: Sequence[str],
    onset_at: datetime | None,
    action_taken: str,
    outcome: str,
    now: datetime,
    by: User,
) -> AdverseEvent:
    errors = adverse_events.check_report(
        kind=kind,
        description=description,
        severity=severity,
        serious=serious,
        seriousness=list(seriousness),
        onset_at=onset_at,
        action_taken=action_taken,
        outcome=outcome,
        now=now,
    )
    if errors:
        raise TmsError(
            next(iter(errors.values())),
            errors={field: [message] for field, message in errors.items()},
        )
    assert onset_at is not None
    event = AdverseEvent.objects.create(
        organization_id=course.organization_id,
        patient_id=course.patient_id,
        course=course,
        session=session,
        seizure=seizure,
        kind=kind,
        description=description.strip()[:4000],
        severity=severity,
        serious=serious,
        seriousness=list(seriousness),
        onset_at=onset_at,
        action_taken=action_taken,
        outcome=outcome,
        recorded_by=by,
        recorded_at=now,
    )
    record(
        AuditEvent.Action.TMS_ADVERSE_EVENT_FILED,
        actor=by,
        patient=course.patient,
        subject=event,
        kind=kind,
        severity=severity,
        serious=serious,
    )
    return event


@transaction.atomic
def record_adverse_event(
    course: TmsCourse,
    *,
    session: TmsSession | None = None,
    kind: str,
    description: str = "",
    severity: str,
    serious: bool = False,
    seriousness: Sequence[str] = (),
    onset_at: datetime | None,
    action_taken: str,
    outcome: str,
    now: datetime | None = None,
    by: User,
) -> AdverseEvent:
    """A report filed by hand (the course page or the API), for the course or one of its sessions."""
    if session is not None and session.course_id != course.pk:
        raise TmsError("That session is not of this course.", field="session")
    if kind == "seizure":
        raise TmsError(
            "A seizure is recorded with the session screen's seizure button: it stops "
            "the session, alerts the physician, holds the course and files the report.",
            field="kind",
        )
    at = now_or(now)
    return _file(
        course,
        session=session,
        kind=kind,
        description=description,
        severity=severity,
        serious=serious,
        seriousness=seriousness,
        onset_at=onset_at,
        action_taken=action_taken,
        outcome=outcome,
        now=at,
        by=by,
    )


def file_seizure_report(
    seizure: SeizureEvent, *, session: TmsSession, by: User
) -> AdverseEvent:
    """The report the seizure path files: severe, serious as a medically important event,
    the course held; recovering when the seizure has ended, else unknown, until the
    physician's review says more."""
    return _file(
        session.course,
        session=session,
        seizure=seizure,
        kind="seizure",
        description=seizure.description,
        severity="severe",
        serious=True,
        seriousness=["medically_important"],
        onset_at=seizure.onset_at,
        action_taken="course_held",
        outcome="recovering" if seizure.ended_at is not None else "unknown",
        now=seizure.recorded_at,
        by=by,
    )


def file_manic_switch_report(
    session: TmsSession, *, severity: str, description: str, at: datetime, by: User
) -> AdverseEvent:
    """The report a possible manic switch side effect files (its safety alert is measures')."""
    return _file(
        session.course,
        session=session,
        kind="manic_switch",
        description=description,
        severity=severity,
        serious=False,
        seriousness=[],
        onset_at=at,
        action_taken="none",
        outcome="unknown",
        now=at,
        by=by,
    )


def report_content(event: AdverseEvent) -> dict[str, Any]:
    """What a review signs: the report as filed."""
    return {
        "uuid": str(event.uuid),
        "patient": event.patient_id,
        "course": str(event.course.uuid),
        "session": event.session_id,
        "kind": event.kind,
        "description": event.description,
        "severity": event.severity,
        "serious": event.serious,
        "seriousness": list(event.seriousness),
        "onset_at": event.onset_at.isoformat(),
        "action_taken": event.action_taken,
        "outcome": event.outcome,
        "recorded_by": event.recorded_by_id,
        "recorded_at": event.recorded_at.isoformat(),
    }


def review_adverse_event(
    event: AdverseEvent,
    *,
    causality: str,
    outcome: str,
    note: str,
    password: str,
    now: datetime | None = None,
    by: User,
) -> AdverseEventReview:
    """A physician signs a review (password) of a report: causality, the outcome now, a note."""
    require_physician(by, event.organization_id, field="reviewed_by")
    errors: dict[str, list[str]] = {}
    if causality not in {c for c, _ in adverse_events.CAUSALITY_CHOICES}:
        errors["causality"] = ["Choose how the event relates to TMS."]
    if outcome not in {c for c, _ in adverse_events.OUTCOME_CHOICES}:
        errors["outcome"] = ["Choose the outcome."]
    if not note.strip():
        errors["note"] = ["Document the review."]
    if errors:
        raise TmsError(next(iter(errors.values()))[0], errors=errors)
    if AdverseEventReview.objects.filter(adverse_event=event).exists():
        raise TmsError("This adverse event is already reviewed.")
    # Outside the review's transaction, so a refused signature stays on the audit log.
    try:
        confirm_signature(password, what=f"TMS adverse event {event.uuid}", by=by)
    except TreatmentError as exc:
        raise TmsError(exc.message, field="password") from None
    return _review(
        event, causality=causality, outcome=outcome, note=note, now=now, by=by
    )


@transaction.atomic
def _review(
    event: AdverseEvent,
    *,
    causality: str,
    outcome: str,
    note: str,
    now: datetime | None,
    by: User,
) -> AdverseEventReview:
    event = (
        AdverseEvent.objects.select_for_update()
        .select_related("course", "patient")
        .get(pk=event.pk)
    )
    if AdverseEventReview.objects.filter(adverse_event=event).exists():
        raise TmsError("This adverse event is already reviewed.")
    at = now_or(now)
    text = note.strip()[:4000]
    review = AdverseEventReview.objects.create(
        adverse_event=event,
        causality=causality,
        outcome=outcome,
        note=text,
        reviewed_by=by,
        reviewed_at=at,
        content_sha256=content_hash(
            {
                "report": report_content(event),
                "causality": causality,
                "outcome": outcome,
                "note": text,
                "reviewed_by": by.pk,
                "reviewed_at": at.isoformat(),
            }
        ),
    )
    record(
        AuditEvent.Action.TMS_ADVERSE_EVENT_REVIEWED,
        actor=by,
        patient=event.patient,
        subject=event,
        causality=causality,
        outcome_now=outcome,
    )
    return review
