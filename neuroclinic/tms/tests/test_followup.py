"""Course follow-up (tms10b): measures due during a course, missed days and make-ups, the
re-threshold prompt from a chart medication change, and a possible manic switch."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.actions.due_measures import (
    PATIENT_RATED,
    send_due_reminders,
)
from neuroclinic.measures.models import DueMeasure, PortalLink, SafetyAlert
from neuroclinic.notifications.models import Notification
from neuroclinic.patients.models import Medication, Patient
from neuroclinic.tms import reads
from neuroclinic.tms.actions import missed, sessions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import MissedSession, SideEffect, TmsCourse, TmsSession
from neuroclinic.tms.tests import factories

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
SignIn = Callable[[str], Client]
Headers = Callable[[User], dict[str, str]]


def due(patient: Patient, **filters: Any) -> list[tuple[str, str, datetime]]:
    return [
        (d.instrument_code, d.event_ref.rsplit(":", 1)[1], d.due_at)
        for d in DueMeasure.objects.filter(
            patient=patient, status=DueMeasure.Status.DUE, **filters
        ).order_by("due_at", "instrument_code")
    ]


def midnight(day: int, month: int = 1) -> datetime:
    return datetime(2026, month, day, tzinfo=CHICAGO)


# Measures during the course -----------------------------------------------------------


def test_ordering_a_course_schedules_weekly_phq9_and_madrs_milestones(
    tms_course: TmsCourse,
) -> None:
    patient = tms_course.patient
    phq9 = due(patient, instrument_code="phq9")
    # 30 acute weekdays from Monday 5 January (6 weeks) and a 3-week taper: 9 weeks.
    assert len(phq9) == 9
    assert phq9[0] == ("phq9", "week-1", midnight(5))
    assert phq9[5] == ("phq9", "week-6", midnight(9, 2))
    assert phq9[6] == ("phq9", "week-7", midnight(16, 2))  # the taper's first Monday
    last_day = reads.sessions_to_book(tms_course)[-1].on
    assert due(patient, instrument_code="madrs") == [
        ("madrs", "start", midnight(5)),
        ("madrs", "start", midnight(19)),  # week 3
        ("madrs", "end", datetime.combine(last_day, datetime.min.time(), CHICAGO)),
    ]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.MEASURES_SCHEDULED, patient=patient
    ).exists()


def test_reminders_send_patient_rated_measures_only(tms_course: TmsCourse) -> None:
    assert "phq9" in PATIENT_RATED
    assert "madrs" not in PATIENT_RATED
    DueMeasure.objects.filter(
        patient=tms_course.patient, instrument_code="phq9"
    ).update(status=DueMeasure.Status.COMPLETED)
    assert send_due_reminders(now=timezone.now()) == 0  # the MADRS are the clinic's
    assert not PortalLink.objects.exists()
    DueMeasure.objects.filter(
        patient=tms_course.patient, instrument_code="phq9"
    ).update(status=DueMeasure.Status.DUE)
    assert send_due_reminders(now=timezone.now()) == 1
    assert PortalLink.objects.get().instrument_codes == ["phq9"]


# Missed days and make-ups --------------------------------------------------------------


def test_a_missed_day_made_up_moves_the_end_and_its_measures(
    tms_course: TmsCourse, tms: User
) -> None:
    before = reads.sessions_to_book(tms_course)
    row = missed.record_missed_session(
        tms_course,
        planned_on=date(2026, 1, 6),
        reason=MissedSession.Reason.ILLNESS,
        make_up=True,
        by=tms,
    )
    assert row.phase == "acute"
    assert row.made_up
    after = reads.sessions_to_book(tms_course)
    assert len(after) == len(before) == 36
    assert after[-1].on > before[-1].on
    progress = reads.progress(tms_course)
    assert (progress.total, progress.missed, progress.made_up) == (36, 1, 1)
    end = due(tms_course.patient, event_ref__endswith=":end")
    assert end == [
        ("madrs", "end", datetime.combine(after[-1].on, datetime.min.time(), CHICAGO))
    ]
    assert DueMeasure.objects.filter(
        patient=tms_course.patient, status=DueMeasure.Status.CANCELLED
    ).exists()  # the old end (and a moved week start) withdrawn, not deleted
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.TMS_SESSION_MISSED, patient=tms_course.patient
    ).exists()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.MEASURES_WITHDRAWN
    ).exists()


def test_a_missed_day_not_made_up_drops_a_session(
    tms_course: TmsCourse, tms: User
) -> None:
    missed.record_missed_session(
        tms_course,
        planned_on=date(2026, 1, 6),
        reason=MissedSession.Reason.NO_SHOW,
        make_up=False,
        by=tms,
    )
    assert reads.progress(tms_course).total == 35
    assert date(2026, 1, 6) not in [p.on for p in reads.sessions_to_book(tms_course)]


def test_make_ups_stop_at_the_protocols_limit(tms_course: TmsCourse, tms: User) -> None:
    for day in (5, 6, 7, 8, 9):
        missed.record_missed_session(
            tms_course,
            planned_on=date(2026, 1, day),
            reason=MissedSession.Reason.ILLNESS,
            make_up=True,
            by=tms,
        )
    with pytest.raises(TmsError, match="limit") as refused:
        missed.record_missed_session(
            tms_course,
            planned_on=date(2026, 1, 12),
            reason=MissedSession.Reason.ILLNESS,
            make_up=True,
            by=tms,
        )
    assert refused.value.errors == {"make_up": [refused.value.message]}
    assert MissedSession.objects.count() == 5
    missed.record_missed_session(
        tms_course,
        planned_on=date(2026, 1, 12),
        reason=MissedSession.Reason.ILLNESS,
        make_up=False,
        by=tms,
    )
    assert reads.progress(tms_course).total == 35


@pytest.mark.parametrize(
    ("planned_on", "reason", "detail", "message"),
    [
        (date(2026, 1, 10), "illness", "", "not a planned session day"),  # Saturday
        (date(2026, 1, 2), "illness", "", "not a planned session day"),  # before start
        (date(2026, 1, 6), "holiday", "", "Choose why"),
        (date(2026, 1, 6), "other", " ", "Say why"),
    ],
)
def test_bad_missed_days_are_refused(
    tms_course: TmsCourse,
    tms: User,
    planned_on: date,
    reason: str,
    detail: str,
    message: str,
) -> None:
    with pytest.raises(TmsError, match=message):
        missed.record_missed_session(
            tms_course,
            planned_on=planned_on,
            reason=reason,
            detail=detail,
            make_up=True,
            by=tms,
        )
    assert not MissedSession.objects.exists()


def test_missed_days_in_order_not_in_future_not_when_treated(
    tms_course: TmsCourse, tms: User, prescriber: User
) -> None:
    with pytest.raises(TmsError, match="on the day or after"):
        missed.record_missed_session(
            tms_course,
            planned_on=date(2026, 1, 6),
            reason="illness",
            make_up=True,
            now=datetime(2026, 1, 5, 15, tzinfo=CHICAGO),
            by=tms,
        )
    factories.start(
        tms_course, tms, prescriber, now=datetime(2026, 1, 5, 9, tzinfo=CHICAGO)
    )
    with pytest.raises(TmsError, match="A session was given"):
        missed.record_missed_session(
            tms_course,
            planned_on=date(2026, 1, 5),
            reason="illness",
            make_up=True,
            by=tms,
        )
    missed.record_missed_session(
        tms_course, planned_on=date(2026, 1, 8), reason="illness", make_up=True, by=tms
    )
    with pytest.raises(TmsError, match="in order"):
        missed.record_missed_session(
            tms_course,
            planned_on=date(2026, 1, 7),
            reason="illness",
            make_up=True,
            by=tms,
        )
    assert MissedSession.objects.count() == 1


def test_an_accelerated_course_rebooks_through_the_calendar(
    patient: Patient, tms: User, prescriber: User
) -> None:
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber)
    course = factories.course(
        patient,
        prescriber,
        protocol_code="itbs-accelerated",
        acute_sessions=50,
        taper=False,
    )
    with pytest.raises(TmsError, match="calendar"):
        missed.record_missed_session(
            course, planned_on=date(2026, 1, 5), reason="illness", make_up=True, by=tms
        )


def test_progress_names_the_taper_phase(
    tms_course: TmsCourse, tms: User, prescriber: User
) -> None:
    for day in range(
        5, 30
    ):  # drop every acute day but the last five, so 5 + 6 taper remain
        if date(2026, 1, day).weekday() < 5:
            missed.record_missed_session(
                tms_course,
                planned_on=date(2026, 1, day),
                reason="no_show",
                make_up=False,
                by=tms,
            )
    plan = reads.sessions_to_book(tms_course)
    assert [p.phase.value for p in plan].count("taper") == 6
    label = reads.progress(tms_course).label
    assert label.startswith("Session 1 of ")
    assert "taper" not in label
    assert reads.progress(tms_course).total == len(plan)
    acute_left = [p.phase.value for p in plan].count("acute")
    for n in range(acute_left):  # the acute sessions left, given one a day
        at = datetime(2026, 2, 2, 9, tzinfo=CHICAGO) + timedelta(days=n)
        session = factories.start(tms_course, tms, prescriber, now=at)
        sessions.end_session(
            session,
            pulses_delivered=session.pulses_planned,
            now=at + timedelta(minutes=40),
            by=tms,
        )
    assert reads.progress(tms_course).label == (
        f"Session {acute_left + 1} of {len(plan)} (taper)"
    )
    assert reads.progress(tms_course).phase == "taper"


def test_missed_page_records_and_refuses(
    tms_course: TmsCourse, as_persona: SignIn
) -> None:
    client = as_persona("tms")
    url = reverse("tms:missed", args=[tms_course.uuid])
    bad = client.post(url, {"planned_on": "2026-01-10", "reason": "illness"})
    assert bad.status_code == 422
    assert "not a planned session day" in bad.content.decode()
    assert not MissedSession.objects.exists()
    ok = client.post(
        url, {"planned_on": "2026-01-06", "reason": "illness", "make_up": "on"}
    )
    assert ok.status_code == 302
    page = client.get(reverse("tms:course", args=[tms_course.uuid])).content.decode()
    assert "1 missed, 1 made up of at most 5" in page
    assert "2026-01-06 (acute): Illness" in page


def test_missed_and_addenda_over_the_api(
    client: Client, tms_course: TmsCourse, tms: User, prescriber: User, bearer: Headers
) -> None:
    headers = bearer(tms)
    url = f"/api/tms/courses/{tms_course.uuid}/missed-sessions"
    r = client.post(
        url,
        {"planned_on": "2026-01-06", "reason": "illness", "make_up": True},
        content_type="application/json",
        headers=headers,
    )
    assert r.status_code == 201
    assert r.json()["made_up"] is True
    assert r.json()["course"]["missed"] == 1
    r = client.post(
        url,
        {"planned_on": "2026-01-06", "reason": "illness"},
        content_type="application/json",
        headers=headers,
    )
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["planned_on"]

    session = factories.start(tms_course, tms, prescriber)
    addenda = f"/api/tms/sessions/{session.uuid}/addenda"
    r = client.post(
        addenda,
        {"text": "Later note"},
        content_type="application/json",
        headers=headers,
    )
    assert r.status_code == 422  # still open
    sessions.end_session(session, pulses_delivered=session.pulses_planned, by=tms)
    r = client.post(
        addenda, {"text": " "}, content_type="application/json", headers=headers
    )
    assert [e["field"] for e in r.json()["errors"]] == ["text"]
    r = client.post(
        addenda,
        {"text": "Patient called: headache resolved."},
        content_type="application/json",
        headers=headers,
    )
    assert r.status_code == 201
    assert session.addenda.get().text == "Patient called: headache resolved."
    nurse = client.post(
        addenda,
        {"text": "x"},
        content_type="application/json",
        headers=bearer(prescriber),
    )
    assert nurse.status_code == 201  # prescribers chart sessions too (run_tms)


# Re-threshold prompt -------------------------------------------------------------------


def add_medication(patient: Patient, name: str, by: User) -> Medication:
    return Medication.objects.create(patient=patient, name=name, recorded_by=by)


def test_a_chart_change_that_moves_the_threshold_prompts_a_redetermination(
    tms_course: TmsCourse, tms: User, prescriber: User, as_persona: SignIn
) -> None:
    patient = tms_course.patient
    add_medication(patient, "Sertraline", prescriber)
    assert reads.rethreshold_prompts(patient) == []
    lamictal = add_medication(patient, "Lamictal", prescriber)
    error = add_medication(patient, "Lithium", prescriber)
    Medication.objects.filter(pk=error.pk).update(
        ended_at=timezone.now(), end_reason=Medication.EndReason.ENTERED_IN_ERROR
    )
    prompts = reads.rethreshold_prompts(patient)
    assert [(p.medication, p.change, p.classes) for p in prompts] == [
        ("Lamictal", "started", ("anticonvulsant",))
    ]
    client = as_persona("tms")
    screen = client.get(reverse("tms:session", args=[tms_course.uuid])).content.decode()
    assert 'id="rethreshold"' in screen
    assert "Re-determine the motor threshold before this session" in screen
    assert "Lamictal (anticonvulsant) started" in screen
    course_page = client.get(
        reverse("tms:course", args=[tms_course.uuid])
    ).content.decode()
    assert 'id="rethreshold"' in course_page
    # Started anyway: the session keeps it as a caution for the supervising physician.
    session = factories.start(tms_course, tms, prescriber)
    assert any("Lamictal" in c for c in session.daily_cautions)
    sessions.end_session(session, pulses_delivered=session.pulses_planned, by=tms)
    # Stopping it is a change too; a new threshold after it clears the prompt.
    Medication.objects.filter(pk=lamictal.pk).update(
        ended_at=timezone.now() + timedelta(seconds=1),
        end_reason=Medication.EndReason.RESOLVED,
    )
    assert [p.change for p in reads.rethreshold_prompts(patient)] == [
        "started",
        "stopped",
    ]
    factories.threshold(
        patient, tms, prescriber, now=timezone.now() + timedelta(minutes=1)
    )
    assert reads.rethreshold_prompts(patient) == []
    screen = client.get(reverse("tms:session", args=[tms_course.uuid])).content.decode()
    assert 'id="rethreshold"' not in screen


# Possible manic switch -----------------------------------------------------------------


def test_a_possible_manic_switch_raises_a_prescriber_alert_and_holds_tms(
    tms_course: TmsCourse, tms: User, prescriber: User
) -> None:
    patient = tms_course.patient
    patient.prescriber = prescriber
    patient.save(update_fields=["prescriber"])
    session = factories.start(tms_course, tms, prescriber)
    sessions.record_side_effect(session, kind="headache", severity="mild", by=tms)
    assert not SafetyAlert.objects.exists()
    sessions.record_side_effect(
        session,
        kind="manic_switch",
        severity="moderate",
        description="Pressured speech, slept 3 hours",
        by=tms,
    )
    alert = SafetyAlert.objects.get()
    assert alert.reason == SafetyAlert.Reason.MANIC_SWITCH
    assert alert.assigned_to == prescriber
    assert "Pressured" not in alert.detail  # the description stays on the session
    assert Notification.objects.filter(recipient=prescriber, urgency="urgent").exists()
    sessions.end_session(session, pulses_delivered=session.pulses_planned, by=tms)
    with pytest.raises(TmsError, match="safety alert"):
        sessions.check_may_treat(tms_course)


# The tablet's offline queue --------------------------------------------------------------


def test_a_queued_entry_is_sent_once_and_only_by_its_maker(
    open_session: TmsSession, tms: User, prescriber: User, as_persona: SignIn
) -> None:
    client = as_persona("tms")
    url = reverse("tms:step", args=[open_session.course.uuid, "side-effect"])
    key = "5b0e4c1e-8d3a-4c36-9a55-0d9a4f7c2b11"
    entry = {
        "effect-kind": "headache",
        "effect-severity": "mild",
        "effect-client_key": key,
    }
    # Made by someone else (the prescriber signed out; the technician is on the tablet).
    theirs = client.post(
        url, entry | {"made_by": str(prescriber.uuid)}, headers={"X-Tablet-Replay": "1"}
    )
    assert theirs.status_code == 409
    # A replay that does not say who made it.
    anonymous = client.post(url, entry, headers={"X-Tablet-Replay": "1"})
    assert anonymous.status_code == 409
    assert not SideEffect.objects.exists()
    # The maker's entry, sent and then replayed (the first answer was lost): recorded once.
    mine = entry | {"made_by": str(tms.uuid)}
    assert client.post(url, mine, headers={"X-Tablet-Replay": "1"}).status_code == 302
    assert client.post(url, mine, headers={"X-Tablet-Replay": "1"}).status_code == 302
    effect = SideEffect.objects.get()
    assert (str(effect.client_key), effect.recorded_by) == (key, tms)
    screen = client.get(reverse("tms:session", args=[open_session.course.uuid]))
    html = screen.content.decode()
    assert 'data-offline="queue"' in html
    assert "js/infusion-tablet.js" in html
    assert f'data-user="{tms.uuid}"' in html
