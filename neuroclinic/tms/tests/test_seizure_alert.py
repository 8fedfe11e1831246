"""A seizure raises a safety alert through measures' routing (tms10f, issue #10 item 5).

The alert goes to the session's supervising physician (not the patient's prescriber),
escalates to the medical director like any unacknowledged alert, is closed only by the
physician's seizure review, and is raised exactly once whichever path records the
seizure: the page, the API, or the tablet replaying its queue.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.measures.actions.alerts import (
    acknowledge_alert,
    escalate_overdue_alerts,
    safety_alert_blocks_treatment,
)
from neuroclinic.measures.actions.common import MeasuresError
from neuroclinic.measures.models import SafetyAlert
from neuroclinic.notifications.models import Notification
from neuroclinic.patients.models import Patient
from neuroclinic.tms.actions import seizures
from neuroclinic.tms.models import AdverseEvent, SeizureEvent, TmsSession
from neuroclinic.tms.tests import factories

pytestmark = pytest.mark.django_db
Headers = Callable[[User], dict[str, str]]


@pytest.fixture
def prescribed_by_director(patient: Patient, director: User) -> Patient:
    """The patient's own prescriber is the director, so routing by prescriber and routing
    to the supervising physician (the `prescriber` fixture) go to different people."""
    Patient.objects.filter(pk=patient.pk).update(prescriber=director)
    patient.refresh_from_db()
    return patient


def _one_seizure_recorded(session: TmsSession) -> SeizureEvent:
    assert SeizureEvent.objects.count() == 1
    assert (
        SafetyAlert.objects.filter(reason=SafetyAlert.Reason.TMS_SEIZURE).count() == 1
    )
    assert AdverseEvent.objects.filter(kind="seizure").count() == 1
    seizure = SeizureEvent.objects.get()
    assert seizure.session_id == session.pk
    return seizure


def test_the_alert_goes_to_the_supervising_physician_not_the_prescriber(
    prescribed_by_director: Patient,
    open_session: TmsSession,
    tms: User,
    prescriber: User,
    director: User,
) -> None:
    assert open_session.supervising_physician == prescriber
    seizure = seizures.record_seizure(open_session, by=tms)

    alert = seizure.safety_alert
    assert alert is not None
    assert alert.reason == SafetyAlert.Reason.TMS_SEIZURE
    assert alert.assigned_to == prescriber
    assert alert.patient == prescribed_by_director
    assert alert.is_open
    # Only the supervising physician is told at once, urgently, with no patient detail.
    note = Notification.objects.get()
    assert note.recipient == prescriber
    assert note.urgency == Notification.Urgency.URGENT
    assert note.subject.startswith("Safety alert: seizure during a TMS session")
    assert prescribed_by_director.family_name not in note.subject + note.body
    assert note.link == reverse("measures:alert", kwargs={"alert_uuid": alert.uuid})
    # It is on the prescriber's "Safety alerts" list like any other alert.
    assert alert in SafetyAlert.objects.filter(acknowledged_at__isnull=True)


def test_an_inactive_supervising_physician_falls_back_to_the_usual_routing(
    prescribed_by_director: Patient,
    open_session: TmsSession,
    tms: User,
    prescriber: User,
    director: User,
) -> None:
    User.objects.filter(pk=prescriber.pk).update(is_active=False)
    seizure = seizures.record_seizure(open_session, by=tms)
    assert seizure.safety_alert is not None
    assert seizure.safety_alert.assigned_to == director


def test_an_unacknowledged_seizure_alert_escalates_to_the_director_once(
    open_session: TmsSession, tms: User, director: User
) -> None:
    seizure = seizures.record_seizure(open_session, by=tms)
    alert = seizure.safety_alert
    assert alert is not None
    minutes = alert.organization.alert_escalation_minutes
    assert (
        escalate_overdue_alerts(now=alert.raised_at + timedelta(minutes=minutes - 1))
        == []
    )
    later = alert.raised_at + timedelta(minutes=minutes + 1)
    assert [a.pk for a in escalate_overdue_alerts(now=later)] == [alert.pk]
    assert escalate_overdue_alerts(now=later + timedelta(minutes=5)) == []
    alert.refresh_from_db()
    assert alert.escalated_to is not None
    assert Role.MEDICAL_DIRECTOR in alert.escalated_to.roles
    assert (
        Notification.objects.filter(
            recipient=director, subject__startswith="Escalated"
        ).count()
        == 1
    )


def test_the_seizure_review_closes_the_alert_and_a_risk_assessment_cannot(
    open_session: TmsSession, tms: User, prescriber: User
) -> None:
    seizure = seizures.record_seizure(open_session, by=tms)
    alert = seizure.safety_alert
    assert alert is not None
    patient = open_session.patient
    assert safety_alert_blocks_treatment(patient) is not None  # infusions held too
    with pytest.raises(MeasuresError, match="seizure review"):
        acknowledge_alert(
            alert,
            risk_level="low",
            disposition="no_action_needed",
            disposition_note="x",
            assessment=dict.fromkeys(
                ("ideation", "plan", "intent", "behaviors", "protective_factors"), "no"
            ),
            by=prescriber,
        )
    alert.refresh_from_db()
    assert alert.is_open

    seizures.review_seizure(
        seizure, decision="resume", note="EEG normal; resume.", by=prescriber
    )
    # A fresh read (refresh_from_db would leave mypy sure it is still open).
    alert = SafetyAlert.objects.get(pk=alert.pk)
    assert not alert.is_open
    assert alert.acknowledged_by == prescriber
    assert alert.disposition == SafetyAlert.Disposition.TREAT_WITH_MONITORING
    assert "EEG normal" in alert.disposition_note
    assert safety_alert_blocks_treatment(patient) is None
    later = factories.start(
        open_session.course,
        tms,
        prescriber,
        now=open_session.started_at + timedelta(days=1),
    )
    assert later.number == 2


def test_a_stopped_course_closes_the_alert_without_holding_other_treatment(
    open_session: TmsSession, tms: User, prescriber: User
) -> None:
    seizure = seizures.record_seizure(open_session, by=tms)
    seizures.review_seizure(seizure, decision="stop", note="Stop TMS.", by=prescriber)
    assert seizure.safety_alert is not None
    seizure.safety_alert.refresh_from_db()
    assert seizure.safety_alert.disposition == SafetyAlert.Disposition.NO_ACTION
    assert "stopped" in seizure.safety_alert.disposition_note
    assert safety_alert_blocks_treatment(open_session.patient) is None


def test_the_alert_page_sends_the_physician_to_the_seizure_review(
    open_session: TmsSession, tms: User, as_persona: Callable[[str], Client]
) -> None:
    seizure = seizures.record_seizure(open_session, by=tms)
    assert seizure.safety_alert is not None
    page = (
        as_persona("prescriber")
        .get(
            reverse("measures:alert", kwargs={"alert_uuid": seizure.safety_alert.uuid})
        )
        .content.decode()
    )
    assert "Seizure during a TMS session" in page
    assert "closed by the physician's documented seizure review" in page
    assert reverse("tms:patient", args=[open_session.patient.uuid]) in page
    assert "Acknowledge alert" not in page


# Exactly once, on every path ------------------------------------------------------------


def step(session: TmsSession) -> str:
    return reverse("tms:step", args=[session.course.uuid, "seizure"])


def test_the_page_raises_it_once_and_a_second_press_is_refused(
    open_session: TmsSession, client: Client, tms: User
) -> None:
    from conftest import login

    login(client, tms)
    assert client.post(step(open_session), {}).status_code == 302
    again = client.post(step(open_session), {})
    assert again.status_code == 200
    assert "on hold after a seizure" in again.content.decode()
    _one_seizure_recorded(open_session)


def test_the_api_raises_it_once_and_a_second_call_is_refused(
    client: Client, open_session: TmsSession, tms: User, bearer: Headers
) -> None:
    url = f"/api/tms/sessions/{open_session.uuid}/seizure"
    first = client.post(url, {}, content_type="application/json", headers=bearer(tms))
    assert first.status_code == 201
    body = first.json()
    seizure = _one_seizure_recorded(open_session)
    assert seizure.safety_alert is not None
    assert body["safety_alert"] == str(seizure.safety_alert.uuid)
    assert body["adverse_event"] == str(seizure.adverse_event.uuid)
    second = client.post(url, {}, content_type="application/json", headers=bearer(tms))
    assert second.status_code == 422
    assert "has ended" in second.json()["detail"]
    _one_seizure_recorded(open_session)


def test_a_tablet_replay_of_the_seizure_raises_nothing_more(
    open_session: TmsSession, client: Client, tms: User, prescriber: User
) -> None:
    """The tablet sent the seizure, lost the answer, and replays it from its queue."""
    from conftest import login

    login(client, tms)
    entry = {"made_by": str(tms.uuid)}
    replay: dict[str, Any] = {"headers": {"X-Tablet-Replay": "1"}}
    assert client.post(step(open_session), entry, **replay).status_code == 302
    again = client.post(step(open_session), entry, **replay)
    assert again.status_code == 200
    _one_seizure_recorded(open_session)
    # Someone else's queued entry records nothing at all.
    login(client, prescriber)
    assert client.post(step(open_session), entry, **replay).status_code == 409
    _one_seizure_recorded(open_session)
    assert Notification.objects.filter(recipient=prescriber).count() == 1


def test_a_refused_seizure_raises_no_alert(open_session: TmsSession, tms: User) -> None:
    """Bad vitals refuse the whole record: no seizure, no alert, no report, session open."""
    from neuroclinic.tms import postictal
    from neuroclinic.tms.errors import TmsError

    with pytest.raises(TmsError):
        seizures.record_seizure(
            open_session, vitals=postictal.PostIctal(heart_rate_bpm=999), by=tms
        )
    assert not SeizureEvent.objects.exists()
    assert not SafetyAlert.objects.exists()
    assert not AdverseEvent.objects.exists()
    assert not Notification.objects.exists()
    open_session.refresh_from_db()
    assert open_session.is_open
