"""Recording questionnaires, raising and acknowledging safety alerts, schedules and reminders."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.alerts import (
    acknowledge_alert,
    escalate_overdue_alerts,
    safety_alert_blocks_treatment,
)
from neuroclinic.measures.actions.common import MeasuresError, PortalLinkInvalid
from neuroclinic.measures.actions.due_measures import (
    schedule_measures,
    send_due_reminders,
)
from neuroclinic.measures.actions.portal_links import (
    create_portal_link,
    open_portal_link,
    record_early_answer,
    submit_from_link,
)
from neuroclinic.measures.actions.responses import (
    amend_response,
    current_responses,
    record_response,
)
from neuroclinic.measures.instruments import InvalidResponse
from neuroclinic.measures.models import (
    DueMeasure,
    PortalLink,
    QuestionnaireResponse,
    SafetyAlert,
)
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.notifications.models import Notification
from neuroclinic.patients.models import Patient

STAFF = QuestionnaireResponse.Source.STAFF


@pytest.fixture
def treated(patient: Patient, prescriber: User, director: User) -> Patient:
    patient.prescriber = prescriber
    patient.save(update_fields=["prescriber"])
    return patient


def test_a_response_is_scored_and_stored_with_its_version_and_who(
    treated: Patient, nurse: User
) -> None:
    recorded = record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(12),
        source=STAFF,
        by=nurse,
    )

    stored = QuestionnaireResponse.objects.get()
    assert (stored.total, stored.severity, stored.instrument_version) == (
        12,
        "moderate",
        "1.0",
    )
    assert stored.entered_by == nurse
    assert recorded.alerts == []
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.RESPONSE_RECORDED, patient=treated
        ).count()
        == 1
    )


def test_item_9_raises_an_alert_for_the_prescriber_with_an_urgent_notification(
    treated: Patient, nurse: User, prescriber: User
) -> None:
    prescriber.email = "prescriber@example.com"
    prescriber.save(update_fields=["email"])

    recorded = record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(6, item9=1),
        source=STAFF,
        by=nurse,
    )

    [alert] = recorded.alerts
    assert alert.reason == SafetyAlert.Reason.PHQ9_ITEM9
    assert alert.assigned_to == prescriber
    notification = Notification.objects.get(recipient=prescriber)
    assert notification.urgency == "urgent"
    assert treated.family_name not in notification.subject + notification.body
    assert safety_alert_blocks_treatment(treated) is not None


def test_an_alert_without_a_prescriber_goes_to_the_medical_director(
    patient: Patient, director: User
) -> None:
    recorded = record_response(
        patient,
        instrument_code="phq9",
        answers=phq9(3, item9=2),
        source=STAFF,
        by=None,
    )

    assert recorded.alerts[0].assigned_to == director


def test_an_unscorable_response_writes_nothing(treated: Patient, nurse: User) -> None:
    answers = phq9(10)
    del answers["phq9-9"]
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidResponse) as caught:
        record_response(
            treated,
            instrument_code="phq9",
            answers=answers,
            source=STAFF,
            by=nurse,
        )

    assert [e.link_id for e in caught.value.errors] == ["phq9-9"]
    assert QuestionnaireResponse.objects.exists() is False
    assert AuditEvent.objects.count() == events


def test_a_double_submit_stores_one_response(treated: Patient, nurse: User) -> None:
    key = uuid4()

    first = record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(5),
        source=STAFF,
        by=nurse,
        submission_key=key,
    )
    second = record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(5),
        source=STAFF,
        by=nurse,
        submission_key=key,
    )

    assert first.created is True
    assert second.created is False
    assert second.response == first.response
    assert QuestionnaireResponse.objects.count() == 1


def test_an_amendment_is_a_new_version_and_the_original_is_untouched(
    treated: Patient, nurse: User
) -> None:
    original = record_response(
        treated, instrument_code="phq9", answers=phq9(5), source=STAFF, by=nurse
    ).response

    amended = amend_response(
        original, answers=phq9(7), reason="Item 3 was misheard", by=nurse
    )

    original.refresh_from_db()
    assert original.total == 5
    assert (
        amended.response.total,
        amended.response.version,
        amended.response.amends,
    ) == (7, 2, original)
    assert list(current_responses(treated)) == [amended.response]
    with pytest.raises(MeasuresError, match="newest version"):
        amend_response(original, answers=phq9(8), reason="again", by=nurse)
    with pytest.raises(MeasuresError, match="why"):
        amend_response(amended.response, answers=phq9(8), reason="  ", by=nurse)


def test_the_database_refuses_to_edit_a_submitted_response(
    treated: Patient, nurse: User
) -> None:
    response = record_response(
        treated, instrument_code="phq9", answers=phq9(5), source=STAFF, by=nurse
    ).response

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        QuestionnaireResponse.objects.filter(pk=response.pk).update(total=0)


ASSESSMENT = {
    "ideation": "Passive thoughts",
    "plan": "None",
    "intent": "None",
    "behaviors": "None",
    "protective_factors": "Family",
}


@pytest.fixture
def open_alert(treated: Patient, nurse: User) -> SafetyAlert:
    return record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(6, item9=1),
        source=STAFF,
        by=nurse,
    ).alerts[0]


def test_acknowledging_needs_an_assessment_and_a_disposition(
    open_alert: SafetyAlert, prescriber: User
) -> None:
    with pytest.raises(MeasuresError, match="protective factors") as caught:
        acknowledge_alert(
            open_alert,
            by=prescriber,
            risk_level="low",
            disposition="safety_plan",
            disposition_note="",
            assessment={
                k: v for k, v in ASSESSMENT.items() if k != "protective_factors"
            },
        )
    assert caught.value.field == "protective_factors"
    with pytest.raises(MeasuresError, match="why no further action"):
        acknowledge_alert(
            open_alert,
            by=prescriber,
            risk_level="low",
            disposition="no_action_needed",
            disposition_note="",
            assessment=ASSESSMENT,
        )
    open_alert.refresh_from_db()
    assert open_alert.is_open


def test_acknowledging_closes_the_alert_and_lifts_the_block(
    open_alert: SafetyAlert, prescriber: User, treated: Patient
) -> None:
    acknowledge_alert(
        open_alert,
        by=prescriber,
        risk_level="low",
        disposition="safety_plan",
        disposition_note="Safety plan reviewed",
        assessment=ASSESSMENT,
    )

    open_alert.refresh_from_db()
    assert open_alert.acknowledged_by == prescriber
    assert open_alert.assessment["plan"] == "None"
    assert safety_alert_blocks_treatment(treated) is None
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.SAFETY_ALERT_ACKNOWLEDGED
        ).count()
        == 1
    )


def test_a_cssrs_taken_since_the_alert_counts_as_the_assessment(
    open_alert: SafetyAlert, prescriber: User, treated: Patient
) -> None:
    cssrs = record_response(
        treated,
        instrument_code="cssrs-screener",
        answers={"cssrs-screener-1": 1, "cssrs-screener-2": 0, "cssrs-screener-6": 0},
        source=STAFF,
        by=prescriber,
    ).response

    acknowledge_alert(
        open_alert,
        by=prescriber,
        risk_level="low",
        disposition="treat_with_monitoring",
        disposition_note="",
        assessment_response=cssrs,
    )

    open_alert.refresh_from_db()
    assert open_alert.assessment_response == cssrs


def test_an_unacknowledged_alert_escalates_to_the_director_once(
    open_alert: SafetyAlert, director: User
) -> None:
    later = open_alert.raised_at + timedelta(minutes=61)

    assert (
        escalate_overdue_alerts(now=open_alert.raised_at + timedelta(minutes=59)) == []
    )
    escalated = escalate_overdue_alerts(now=later)
    again = escalate_overdue_alerts(now=later + timedelta(minutes=5))

    assert [a.pk for a in escalated] == [open_alert.pk]
    assert again == []
    open_alert.refresh_from_db()
    assert open_alert.escalated_to == director
    assert (
        Notification.objects.filter(
            recipient=director, subject__startswith="Escalated"
        ).count()
        == 1
    )


def test_portal_links_are_single_use_and_expire(treated: Patient, nurse: User) -> None:
    link, token = create_portal_link(
        treated,
        instrument_codes=["phq9"],
        channel=PortalLink.Channel.NONE,
        by=nurse,
    )

    assert open_portal_link(token) == link
    assert token not in link.token_hash
    submit_from_link(link, instrument_code="phq9", answers=phq9(4), submission_key=None)
    with pytest.raises(PortalLinkInvalid, match="already used"):
        open_portal_link(token)
    with pytest.raises(PortalLinkInvalid, match="not valid"):
        open_portal_link(token[:-3] + "abc")

    _, old_token = create_portal_link(
        treated,
        instrument_codes=["phq9"],
        channel=PortalLink.Channel.NONE,
        by=nurse,
        lifetime=timedelta(seconds=-1),
    )
    with pytest.raises(PortalLinkInvalid, match="expired"):
        open_portal_link(old_token)


def test_an_item_9_answer_raises_the_alert_before_the_form_is_sent(
    treated: Patient, nurse: User
) -> None:
    link, _ = create_portal_link(
        treated,
        instrument_codes=["phq9"],
        channel=PortalLink.Channel.EMAIL,
        by=nurse,
    )

    assert (
        record_early_answer(link, instrument_code="phq9", link_id="phq9-3", value=3)
        is None
    )
    alert = record_early_answer(link, instrument_code="phq9", link_id="phq9-9", value=2)
    recorded = submit_from_link(
        link, instrument_code="phq9", answers=phq9(8, item9=2), submission_key=None
    )

    assert alert is not None
    assert SafetyAlert.objects.count() == 1
    alert.refresh_from_db()
    assert alert.response == recorded.response


def test_schedules_make_due_items_once_and_a_response_fulfils_them(
    treated: Patient, nurse: User
) -> None:
    infusion_at = timezone.now() + timedelta(hours=2)

    made = schedule_measures(
        treated,
        trigger=schedules.Trigger.BEFORE_INFUSION,
        event_at=infusion_at,
        event_ref="infusion:1",
    )
    again = schedule_measures(
        treated,
        trigger=schedules.Trigger.BEFORE_INFUSION,
        event_at=infusion_at,
        event_ref="infusion:1",
    )
    record_response(
        treated, instrument_code="phq9", answers=phq9(4), source=STAFF, by=nurse
    )

    assert len(made) == 1
    assert again == []
    due = DueMeasure.objects.get()
    assert due.status == DueMeasure.Status.COMPLETED
    assert due.response is not None


def test_reminders_send_one_link_per_patient_and_no_clinical_content(
    treated: Patient,
) -> None:
    schedule_measures(
        treated,
        trigger=schedules.Trigger.INTAKE,
        event_at=timezone.now() - timedelta(hours=1),
        event_ref="intake",
    )

    sent = send_due_reminders()

    assert sent == 1
    link = PortalLink.objects.get()
    assert sorted(link.instrument_codes) == ["gad7", "phq9"]
    assert DueMeasure.objects.filter(reminders_sent=1).count() == 2
    assert send_due_reminders() == 0  # not again within a day


def test_reminder_email_holds_only_the_link(
    treated: Patient, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    schedule_measures(
        treated,
        trigger=schedules.Trigger.INTAKE,
        event_at=timezone.now() - timedelta(hours=1),
        event_ref="intake",
    )

    with django_capture_on_commit_callbacks(execute=True):
        send_due_reminders()

    [message] = mail.outbox
    assert message.to == ["casey.testova@example.com"]
    assert "/q/" in message.body
    assert "PHQ" not in message.body
    assert "depress" not in message.body.lower()
