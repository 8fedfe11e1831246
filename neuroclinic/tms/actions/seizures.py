"""The seizure path: stop, record, alert the physician at once, hold the course until reviewed.

Seizure handling in software is our design (domain facts: Source: T7, T9 (docs/sources.md));
docs/tms.md describes it.
"""

from datetime import datetime
from typing import Any

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.measures.actions.alerts import (
    close_by_seizure_review,
    raise_safety_alert,
)
from neuroclinic.measures.models import SafetyAlert
from neuroclinic.tms import postictal
from neuroclinic.tms.actions.adverse import file_seizure_report
from neuroclinic.tms.actions.common import lock_session, now_or, require_open
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import SeizureEvent, SeizureReview, TmsCourse, TmsSession


@transaction.atomic
def record_seizure(
    session: TmsSession,
    *,
    onset_at: datetime | None = None,
    ended_at: datetime | None = None,
    post_ictal_status: str = "",
    vitals: postictal.PostIctal | None = None,
    description: str = "",
    now: datetime | None = None,
    by: User,
) -> SeizureEvent:
    """Stop the session, record the seizure with its post-ictal vitals, raise a safety
    alert for the supervising physician (measures' routing and escalation), file the
    adverse-event report, and hold the course until a physician reviews it.

    A replay (the tablet's queue, a second click) finds the session ended and is
    refused, so each seizure raises one alert and files one report.
    """
    session = lock_session(session)
    require_open(session, doing="record a seizure (use the course page)")
    at = now_or(now)
    seizure = _record(
        session,
        onset=onset_at or at,
        ended_at=ended_at,
        post_ictal_status=post_ictal_status,
        vitals=vitals,
        description=description,
        detail=(
            f"Seizure in TMS session {session.number} of {session.course.protocol_name}; "
            "the course is on hold until a physician documents a review."
        ),
        at=at,
        by=by,
    )
    session.status = TmsSession.Status.SEIZURE
    session.ended_at = at
    session.save(update_fields=["status", "ended_at"])
    return seizure


@transaction.atomic
def record_seizure_after_session(
    course: TmsCourse,
    *,
    onset_at: datetime,
    ended_at: datetime | None = None,
    post_ictal_status: str = "",
    vitals: postictal.PostIctal | None = None,
    description: str = "",
    now: datetime | None = None,
    by: User,
) -> SeizureEvent:
    """A seizure after the course's last session ended (in the waiting room, on the way
    home, reported by phone): recorded against that session, with the same alert to its
    supervising physician, the same report and the same hold on the course as the
    session screen's button. The session keeps what it delivered (its status and end do
    not change); the seizure's onset is its own.

    Refused while a session is running (its screen's button stops it), before any session
    ended, with an onset before the last session began or in the future, and when that
    session already has its seizure (one per session: a replay is refused, not doubled).
    """
    last = (
        TmsSession.objects.filter(course=course).order_by("-number").only("pk").first()
    )
    if last is None:
        raise TmsError("No session of this course has ended yet.")
    session = lock_session(last)
    if session.is_open:
        raise TmsError(
            "A session is running: use the session screen's seizure button, which stops it."
        )
    if SeizureEvent.objects.filter(session=session).exists():
        raise TmsError(
            f"A seizure is already recorded for session {session.number}.",
        )
    at = now_or(now)
    if onset_at < session.started_at:
        raise TmsError(
            f"The onset is before session {session.number} began: record an earlier "
            "seizure as an adverse event on the course page.",
            field="onset_at",
        )
    return _record(
        session,
        onset=onset_at,
        ended_at=ended_at,
        post_ictal_status=post_ictal_status,
        vitals=vitals,
        description=description,
        detail=(
            f"Seizure after TMS session {session.number} of "
            f"{session.course.protocol_name} ended; the course is on hold until a "
            "physician documents a review."
        ),
        at=at,
        by=by,
        after_session=True,
    )


def _record(
    session: TmsSession,
    *,
    onset: datetime,
    ended_at: datetime | None,
    post_ictal_status: str,
    vitals: postictal.PostIctal | None,
    description: str,
    detail: str,
    at: datetime,
    by: User,
    after_session: bool = False,
) -> SeizureEvent:
    """The seizure, its alert to the supervising physician, its audit event and report."""
    if onset > at:
        raise TmsError("The onset cannot be in the future.", field="onset_at")
    if ended_at is not None and ended_at < onset:
        raise TmsError("The seizure cannot end before it began.", field="ended_at")
    vitals = vitals or postictal.PostIctal()
    errors = postictal.check(vitals, onset_at=onset, now=at)
    if errors:
        raise TmsError(
            next(iter(errors.values())),
            errors={field: [message] for field, message in errors.items()},
        )
    physician = session.supervising_physician
    assert isinstance(physician, User)
    alert = raise_safety_alert(
        session.patient,
        reason=SafetyAlert.Reason.TMS_SEIZURE,
        detail=detail,
        assign_to=physician,
        by=by,
    )
    seizure = SeizureEvent.objects.create(
        session=session,
        course=session.course,
        onset_at=onset,
        ended_at=ended_at,
        post_ictal_status=post_ictal_status.strip()[:300],
        vitals_taken_at=vitals.taken_at,
        heart_rate_bpm=vitals.heart_rate_bpm,
        systolic_mmhg=vitals.systolic_mmhg,
        diastolic_mmhg=vitals.diastolic_mmhg,
        spo2_percent=vitals.spo2_percent,
        consciousness_avpu=vitals.consciousness_avpu,
        gcs_total=vitals.gcs_total,
        safety_alert=alert,
        description=description.strip()[:4000],
        recorded_by=by,
        recorded_at=at,
    )
    extra: dict[str, Any] = {"after_session": True} if after_session else {}
    record(
        AuditEvent.Action.TMS_SEIZURE_RECORDED,
        actor=by,
        patient=session.patient,
        subject=seizure,
        session=str(session.uuid),
        safety_alert=str(alert.uuid),
        **extra,
    )
    file_seizure_report(seizure, session=session, by=by)
    return seizure


@transaction.atomic
def review_seizure(
    seizure: SeizureEvent,
    *,
    decision: str,
    note: str,
    now: datetime | None = None,
    by: User,
) -> SeizureReview:
    """A physician's documented review: resume (releases the hold) or stop the course."""
    seizure = (
        SeizureEvent.objects.select_for_update()
        .select_related("course")
        .get(pk=seizure.pk)
    )
    if SeizureReview.objects.filter(seizure=seizure).exists():
        raise TmsError("This seizure is already reviewed.")
    if decision not in SeizureReview.Decision.values:
        raise TmsError("Choose resume or stop.", field="decision")
    if not note.strip():
        raise TmsError("Document the review.", field="note")
    review = SeizureReview.objects.create(
        seizure=seizure,
        decision=decision,
        note=note.strip()[:4000],
        reviewed_by=by,
        reviewed_at=now_or(now),
    )
    if seizure.safety_alert is not None:
        close_by_seizure_review(
            seizure.safety_alert,
            resumed=decision == SeizureReview.Decision.RESUME,
            note=review.note,
            by=by,
        )
    record(
        AuditEvent.Action.TMS_SEIZURE_REVIEWED,
        actor=by,
        patient=seizure.course.patient,
        subject=seizure,
        decision=decision,
    )
    return review
