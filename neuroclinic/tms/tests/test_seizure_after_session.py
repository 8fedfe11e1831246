"""A seizure after the last session ended (the waiting room, a phone call the next day):
recorded against that session with the same alert, report and hold as the session
screen's button, on the course page and over the API; the session keeps what it
delivered. Refused while a session runs, once the session has its seizure, and for an
onset before the session began or in the future, writing nothing."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.models import SafetyAlert
from neuroclinic.tms import reads
from neuroclinic.tms.actions import seizures, sessions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import AdverseEvent, SeizureEvent, TmsCourse, TmsSession
from neuroclinic.tms.tests import factories

pytestmark = pytest.mark.django_db
Headers = Callable[[User], dict[str, str]]


@pytest.fixture
def ended(tms_course: TmsCourse, tms: User, prescriber: User) -> TmsSession:
    """Session 1, started an hour ago and ended half an hour ago."""
    now = timezone.now()
    session = factories.start(tms_course, tms, prescriber, now=now - timedelta(hours=1))
    return sessions.end_session(
        session,
        pulses_delivered=session.pulses_planned,
        now=now - timedelta(minutes=30),
        by=tms,
    )


def after_end(session: TmsSession, *, minutes: int) -> datetime:
    assert session.ended_at is not None
    return session.ended_at + timedelta(minutes=minutes)


def _nothing_written() -> None:
    assert not SeizureEvent.objects.exists()
    assert not SafetyAlert.objects.filter(
        reason=SafetyAlert.Reason.TMS_SEIZURE
    ).exists()
    assert not AdverseEvent.objects.exists()


def _local(moment: Any, course: TmsCourse) -> str:
    zone = ZoneInfo(course.location.time_zone)
    return str(moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M"))


def test_a_seizure_after_the_session_alerts_reports_and_holds_the_course(
    ended: TmsSession, tms: User, prescriber: User
) -> None:
    course = ended.course
    onset = after_end(ended, minutes=10)

    seizure = seizures.record_seizure_after_session(
        course, onset_at=onset, description="In the waiting room.", by=tms
    )

    assert seizure.session_id == ended.pk
    assert seizure.onset_at == onset
    # The session keeps what it delivered.
    ended.refresh_from_db()
    assert ended.status == TmsSession.Status.COMPLETED
    assert ended.pulses_delivered == ended.pulses_planned
    # The same alert (to the session's supervising physician), report and hold.
    alert = seizure.safety_alert
    assert alert is not None
    assert alert.assigned_to == prescriber
    assert "after TMS session 1" in alert.detail
    assert AdverseEvent.objects.get(kind="seizure").seizure == seizure
    assert reads.progress(course).on_hold
    event = AuditEvent.objects.get(action=AuditEvent.Action.TMS_SEIZURE_RECORDED)
    assert event.data["after_session"] is True
    # The next session waits for a physician's review.
    with pytest.raises(TmsError, match="on hold"):
        factories.start(course, tms, prescriber)


def test_refused_while_a_session_runs(open_session: TmsSession, tms: User) -> None:
    with pytest.raises(TmsError, match="seizure button"):
        seizures.record_seizure_after_session(
            open_session.course, onset_at=timezone.now(), by=tms
        )
    _nothing_written()


def test_refused_before_any_session(tms_course: TmsCourse, tms: User) -> None:
    with pytest.raises(TmsError, match="No session"):
        seizures.record_seizure_after_session(
            tms_course, onset_at=timezone.now(), by=tms
        )
    _nothing_written()


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (timedelta(hours=-1), "before session 1 began"),
        (timedelta(hours=2), "in the future"),
    ],
)
def test_an_onset_before_the_session_or_in_the_future_is_refused(
    ended: TmsSession, tms: User, offset: timedelta, message: str
) -> None:
    base = ended.started_at if offset < timedelta(0) else timezone.now()
    with pytest.raises(TmsError, match=message) as refused:
        seizures.record_seizure_after_session(
            ended.course, onset_at=base + offset, by=tms
        )
    assert "onset_at" in refused.value.errors
    _nothing_written()


def test_one_seizure_per_session_whichever_path_recorded_it(
    open_session: TmsSession, tms: User
) -> None:
    seizures.record_seizure(open_session, by=tms)
    with pytest.raises(TmsError, match="already recorded for session 1"):
        seizures.record_seizure_after_session(
            open_session.course, onset_at=timezone.now(), by=tms
        )
    assert SeizureEvent.objects.count() == 1
    assert AdverseEvent.objects.count() == 1


def test_the_course_page_records_it_and_shows_a_bad_form_again(
    ended: TmsSession, as_persona: Callable[[str], Client]
) -> None:
    course = ended.course
    client = as_persona("tms")
    page = f"/tms/courses/{course.uuid}/"
    url = f"/tms/courses/{course.uuid}/seizure-after-session"
    assert "Seizure after session 1 ended" in client.get(page).content.decode()

    no_onset = client.post(url, {})
    assert no_onset.status_code == 422
    assert 'id="sa-onset_at"' in no_onset.content.decode()
    assert "This field is required." in no_onset.content.decode()
    onset = _local(after_end(ended, minutes=5), course)
    # A vital without the time it was taken: the action's range check refuses it.
    untimed = client.post(url, {"onset_at": onset, "heart_rate_bpm": "88"})
    assert untimed.status_code == 422
    _nothing_written()

    done = client.post(url, {"onset_at": onset}, follow=True)
    assert "the course is on hold" in done.content.decode()
    assert SeizureEvent.objects.get().session_id == ended.pk
    assert "Seizure after session 1 ended" not in done.content.decode()


def test_who_may_not_run_tms_is_refused(
    ended: TmsSession, as_persona: Callable[[str], Client]
) -> None:
    url = f"/tms/courses/{ended.course.uuid}/seizure-after-session"
    onset = _local(after_end(ended, minutes=5), ended.course)
    assert as_persona("billing").post(url, {"onset_at": onset}).status_code == 403
    _nothing_written()


def test_the_api_records_it_once(
    client: Client, ended: TmsSession, tms: User, bearer: Headers
) -> None:
    url = f"/api/tms/courses/{ended.course.uuid}/seizure-after-session"
    headers = bearer(tms)
    onset = (after_end(ended, minutes=5)).isoformat()

    naive = client.post(
        url,
        {"onset_at": onset[:19]},
        content_type="application/json",
        headers=headers,
    )
    assert naive.status_code == 422
    assert naive["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in naive.json()["errors"]] == ["onset_at"]
    _nothing_written()

    made = client.post(
        url, {"onset_at": onset}, content_type="application/json", headers=headers
    )
    assert made.status_code == 201, made.content
    assert made.json()["course_on_hold"] is True
    assert made.json()["safety_alert"] is not None

    again = client.post(
        url, {"onset_at": onset}, content_type="application/json", headers=headers
    )
    assert again.status_code == 422
    assert "already recorded" in again.json()["detail"]
    assert SeizureEvent.objects.count() == 1
