"""The seizure path: stop, record, notify the physician at once, hold the course until reviewed.

Seizure handling in software is our design (domain facts: Source: T7, T9 (docs/sources.md));
docs/tms.md describes it.
"""

from datetime import datetime

from django.db import transaction
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.notifications.actions import notify
from neuroclinic.tms.actions.common import lock_session, now_or, require_open
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import SeizureEvent, SeizureReview, TmsSession


@transaction.atomic
def record_seizure(
    session: TmsSession,
    *,
    onset_at: datetime | None = None,
    ended_at: datetime | None = None,
    post_ictal_status: str = "",
    vitals: str = "",
    description: str = "",
    now: datetime | None = None,
    by: User,
) -> SeizureEvent:
    session = lock_session(session)
    require_open(session, doing="record a seizure (use the course page)")
    at = now_or(now)
    onset = onset_at or at
    if onset > at:
        raise TmsError("The onset cannot be in the future.", field="onset_at")
    if ended_at is not None and ended_at < onset:
        raise TmsError("The seizure cannot end before it began.", field="ended_at")
    seizure = SeizureEvent.objects.create(
        session=session,
        course=session.course,
        onset_at=onset,
        ended_at=ended_at,
        post_ictal_status=post_ictal_status.strip()[:300],
        vitals=vitals.strip()[:300],
        description=description.strip()[:4000],
        recorded_by=by,
        recorded_at=at,
    )
    session.status = TmsSession.Status.SEIZURE
    session.ended_at = at
    session.save(update_fields=["status", "ended_at"])
    physician = session.supervising_physician
    assert isinstance(physician, User)
    notify(
        physician,
        subject="Seizure during a TMS session: review needed now",
        body="The course is on hold until you document a review.",
        link=reverse("tms:course", args=[session.course.uuid]),
        urgent=True,
    )
    record(
        AuditEvent.Action.TMS_SEIZURE_RECORDED,
        actor=by,
        patient=session.patient,
        subject=seizure,
        session=str(session.uuid),
    )
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
    record(
        AuditEvent.Action.TMS_SEIZURE_REVIEWED,
        actor=by,
        patient=seizure.course.patient,
        subject=seizure,
        decision=decision,
    )
    return review
