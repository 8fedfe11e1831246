"""The prescriber's course page: progress against the PHQ-9 trajectory, sessions, the seizure
review that releases a hold; and the list of TMS courses."""

import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.outcome_rules import clinic_outcome_rules
from neuroclinic.measures.progress import trajectory_summary
from neuroclinic.patients.models import Patient
from neuroclinic.tms import forms as f
from neuroclinic.tms import reads, summary
from neuroclinic.tms.access import (
    get_course_for_user,
    get_seizure_for_user,
    get_session_for_user,
)
from neuroclinic.tms.actions import missed, seizures, sessions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsCourse, TmsSession
from neuroclinic.tms.progress import course_events


def _phq9(course: TmsCourse) -> dict[str, Any]:
    responses = list(
        QuestionnaireResponse.objects.filter(
            patient=course.patient, instrument_code="phq9", amended_by__isnull=True
        ).order_by("completed_at", "id")
    )
    return trajectory_summary(INSTRUMENTS["phq9"], responses, course_events(course))


def _summary(course: TmsCourse, sessions: list[Any], planned: list[Any]) -> Any:
    ended = [s for s in sessions if not s.is_open]
    scores = [
        summary.Score(on=reads.local_date(course, r.completed_at), total=r.total)
        for r in QuestionnaireResponse.objects.filter(
            patient=course.patient, instrument_code="phq9", amended_by__isnull=True
        ).order_by("completed_at", "id")
        if r.total is not None
    ]
    return summary.summarize(
        planned_days=[p.on for p in planned],
        sessions=[
            summary.GivenSession(
                on=reads.local_date(course, s.started_at),
                pulses_delivered=s.pulses_delivered or 0,
                completed=s.status == TmsSession.Status.COMPLETED,
                side_effects=tuple(e.get_kind_display() for e in s.side_effects.all()),
            )
            for s in ended
        ],
        phq9=scores,
        today=reads.local_date(course, timezone.now()),
        recorded_missed=len(reads.missed_sessions(course)),
        rules=clinic_outcome_rules(course.organization_id),
    )


def _with_review_forms(events: list[Any], refused: tuple[int, Any] | None) -> list[Any]:
    """Each report gets its own review form, with ids of its own (one page, many forms)."""
    for event in events:
        if refused is not None and refused[0] == event.pk:
            event.review_form = refused[1]
        else:
            event.review_form = f.AdverseEventReviewForm(auto_id=f"ae{event.pk}-%s")
    return events


def course_context(
    request: AuthenticatedHttpRequest,
    course: TmsCourse,
    review_form: Any = None,
    missed_form: Any = None,
    adverse_form: Any = None,
    adverse_review: tuple[int, Any] | None = None,
    seizure_after_form: Any = None,
) -> dict[str, Any]:
    session_rows = list(
        course.sessions.select_related("operator", "supervising_physician", "device")
        .prefetch_related("side_effects", "interruptions", "addenda__written_by")
        .order_by("number")
    )
    planned = reads.sessions_to_book(course)
    seizure_rows = list(
        course.seizures.select_related("review", "session", "safety_alert").all()
    )
    last = session_rows[-1] if session_rows else None
    # A seizure after the last session ended has its own form (the session screen's
    # button stops a running one); one seizure per session.
    seizure_after = (
        last
        if last is not None
        and not last.is_open
        and all(s.session_id != last.pk for s in seizure_rows)
        else None
    )
    return {
        "summary": _summary(course, session_rows, planned),
        "course": course,
        "patient": course.patient,
        "progress": reads.progress(course),
        "sessions": session_rows,
        "planned": planned,
        "seizures": seizure_rows,
        "seizure_after": seizure_after,
        "seizure_after_form": seizure_after_form
        or f.SeizureAfterSessionForm(zone=course.location.time_zone, auto_id="sa-%s"),
        "phq9": _phq9(course),
        "can_review": request.user.can(Capability.ORDER_TMS),
        "review_form": review_form or f.SeizureReviewForm(),
        "can_add": request.user.can(Capability.RUN_TMS),
        "addendum_form": f.AddendumForm(),
        "missed": reads.missed_sessions(course),
        "missed_form": missed_form or f.MissedSessionForm(),
        "rethreshold": reads.rethreshold_prompts(course.patient),
        "adverse_events": _with_review_forms(
            list(reads.adverse_events(course)), adverse_review
        ),
        "adverse_form": adverse_form
        or f.AdverseEventForm(
            course=course, zone=course.location.time_zone, auto_id="ae-%s"
        ),
    }


@require_capability(Capability.VIEW_TMS)
@require_GET
def course_page(
    request: AuthenticatedHttpRequest, course_uuid: uuid.UUID
) -> HttpResponse:
    course = get_course_for_user(
        request.user, course_uuid, capability=Capability.VIEW_TMS
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.TMS_COURSE_VIEWED,
            actor=request.user,
            patient=course.patient,
            subject=course,
            page="course",
        )
    return render(request, "tms/course.html", course_context(request, course))


@require_capability(Capability.ORDER_TMS)
@require_POST
def review(request: AuthenticatedHttpRequest, seizure_uuid: uuid.UUID) -> HttpResponse:
    seizure = get_seizure_for_user(
        request.user, seizure_uuid, capability=Capability.ORDER_TMS
    )
    course = seizure.course
    form = f.SeizureReviewForm(request.POST)
    if form.is_valid():
        try:
            seizures.review_seizure(
                seizure,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(request, "Review documented.")
            return redirect(reverse("tms:course", args=[course.uuid]))
    return render(request, "tms/course.html", course_context(request, course, form))


@require_capability(Capability.VIEW_TMS)
@require_GET
def course_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every course of the clinic, newest first, with each one's progress (one query each way)."""
    courses = list(
        TmsCourse.objects.filter(patient__in=Patient.objects.visible_to(request.user))
        .select_related("patient")
        .order_by("-ordered_at", "-id")[:200]
    )
    counts: dict[int, int] = {}
    for course_id in reads.ended_sessions(courses):
        counts[course_id] = counts.get(course_id, 0) + 1
    held = reads.held_course_ids(courses)
    missed_by_course = reads.missed_by_course(courses)
    rows = [
        {
            "course": c,
            "delivered": counts.get(c.pk, 0),
            # As planned now, as on the course page: a missed day not made up drops a session.
            "planned": len(
                reads.sessions_to_book(c, missed=missed_by_course.get(c.pk, []))
            ),
            "on_hold": c.pk in held,
        }
        for c in courses
    ]
    with transaction.atomic():
        record(
            AuditEvent.Action.TMS_COURSE_VIEWED,
            actor=request.user,
            page="list",
            organization=request.user.organization,
        )
    patients = Patient.objects.visible_to(request.user).order_by(
        "family_name", "given_name", "id"
    )[:500]
    return render(
        request, "tms/courses.html", {"rows": rows, "patients": list(patients)}
    )


@require_capability(Capability.RUN_TMS)
@require_POST
def addendum(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID
) -> HttpResponse:
    """Append an addendum to a signed session note (the note itself never changes)."""
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.RUN_TMS
    )
    form = f.AddendumForm(request.POST)
    if form.is_valid():
        try:
            sessions.add_addendum(
                session, text=form.cleaned_data["text"], by=request.user
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(request, "Addendum added.")
            return redirect(reverse("tms:course", args=[session.course.uuid]))
    context = course_context(request, session.course)
    context["addendum_form"] = form
    context["addendum_session"] = session.pk
    return render(request, "tms/course.html", context, status=422)


@require_capability(Capability.RUN_TMS)
@require_POST
def missed_session(
    request: AuthenticatedHttpRequest, course_uuid: uuid.UUID
) -> HttpResponse:
    """Record a missed planned day, made up at the end of its phase or dropped."""
    course = get_course_for_user(
        request.user, course_uuid, capability=Capability.RUN_TMS
    )
    form = f.MissedSessionForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            row = missed.record_missed_session(
                course,
                planned_on=d["planned_on"],
                reason=d["reason"],
                detail=d["detail"],
                make_up=d["make_up"],
                by=request.user,
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(
                request,
                "Missed day recorded: "
                + ("made up at the end." if row.made_up else "not made up."),
            )
            return redirect(reverse("tms:course", args=[course.uuid]))
    return render(
        request,
        "tms/course.html",
        course_context(request, course, missed_form=form),
        status=422,
    )


@require_capability(Capability.RUN_TMS)
@require_POST
def seizure_after_session(
    request: AuthenticatedHttpRequest, course_uuid: uuid.UUID
) -> HttpResponse:
    """A seizure after the last session ended: the same alert, report and hold as the
    session screen's button (seizures.record_seizure_after_session)."""
    course = get_course_for_user(
        request.user, course_uuid, capability=Capability.RUN_TMS
    )
    form = f.SeizureAfterSessionForm(
        request.POST, zone=course.location.time_zone, auto_id="sa-%s"
    )
    if form.is_valid():
        d = form.cleaned_data
        try:
            seizures.record_seizure_after_session(
                course,
                onset_at=d["onset_at"],
                post_ictal_status=d["post_ictal_status"],
                vitals=form.vitals(),
                description=d["description"],
                by=request.user,
            )
        except TmsError as exc:
            f.add_errors(form, exc)
        else:
            messages.success(
                request,
                "Seizure recorded. A safety alert went to the supervising physician; "
                "the course is on hold.",
            )
            return redirect(reverse("tms:course", args=[course.uuid]))
    return render(
        request,
        "tms/course.html",
        course_context(request, course, seizure_after_form=form),
        status=422,
    )
