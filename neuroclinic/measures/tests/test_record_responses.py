"""Recording responses in a batch: what one record_response per entry would do, in one transaction.

`record_response` is a batch of one, so the single action's tests (test_actions)
cover the batch's path too; these test what only a batch of several can show.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent, Seal
from neuroclinic.audit.seals import verify_seals
from neuroclinic.measures import schedules
from neuroclinic.measures.actions import responses
from neuroclinic.measures.actions.common import MeasuresError
from neuroclinic.measures.actions.due_measures import schedule_measures
from neuroclinic.measures.actions.responses import (
    NewResponse,
    record_response,
    record_responses,
)
from neuroclinic.measures.instruments import InvalidResponse
from neuroclinic.measures.models import DueMeasure, QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.patients.models import Patient
from neuroclinic.patients.tests.factories import make_patient

STAFF = QuestionnaireResponse.Source.STAFF
GAD7 = {f"gad7-{i}": 1 for i in range(1, 8)}


@pytest.fixture
def treated(patient: Patient, prescriber: User, director: User) -> Patient:
    patient.prescriber = prescriber
    patient.save(update_fields=["prescriber"])
    return patient


@pytest.fixture
def second(treated: Patient, prescriber: User) -> Patient:
    other = make_patient(treated.organization, family_name="Batchley")
    other.prescriber = prescriber
    other.save(update_fields=["prescriber"])
    return other


def _entry(patient: Patient, by: User | None, **kwargs: Any) -> NewResponse:
    fields: dict[str, Any] = {
        "instrument_code": "phq9",
        "answers": phq9(6),
        "source": STAFF,
    } | kwargs
    return NewResponse(patient=patient, by=by, **fields)


def _recorded_events() -> list[tuple[str, str]]:
    return [
        (e.action, e.subject_id)
        for e in AuditEvent.objects.filter(
            action__in=[
                AuditEvent.Action.RESPONSE_RECORDED,
                AuditEvent.Action.SAFETY_ALERT_RAISED,
            ]
        ).order_by("seq")
    ]


def test_a_batch_stores_scores_audits_and_seals_each_response_in_order(
    treated: Patient, second: Patient, nurse: User
) -> None:
    at = timezone.now() - timedelta(days=3)

    done = record_responses(
        [
            _entry(treated, nurse, answers=phq9(12), completed_at=at),
            _entry(second, None, instrument_code="gad7", answers=GAD7),
            _entry(treated, nurse, answers=phq9(4)),
        ]
    )

    assert [r.created for r in done] == [True, True, True]
    assert [(r.response.patient, r.response.total) for r in done] == [
        (treated, 12),
        (second, 7),
        (treated, 4),
    ]
    first = QuestionnaireResponse.objects.get(pk=done[0].response.pk)
    assert first.severity == "moderate"
    assert first.completed_at == at
    assert first.entered_by == nurse
    assert first.instrument_version == done[0].response.instrument.version
    assert _recorded_events() == [
        (AuditEvent.Action.RESPONSE_RECORDED, str(r.response.uuid)) for r in done
    ]
    sealed = set(
        Seal.objects.filter(model="measures.questionnaireresponse").values_list(
            "object_id", flat=True
        )
    )
    assert sealed == {str(r.response.pk) for r in done}
    assert verify_seals() == []


def test_a_batch_raises_each_alert_after_its_own_response(
    treated: Patient, second: Patient, nurse: User, prescriber: User
) -> None:
    done = record_responses(
        [
            _entry(treated, nurse, answers=phq9(14, item9=1)),
            _entry(second, nurse, answers=phq9(3)),
            _entry(second, nurse, answers=phq9(9, item9=2)),
        ]
    )

    assert [len(r.alerts) for r in done] == [1, 0, 1]
    assert [a.patient for r in done for a in r.alerts] == [treated, second]
    assert {a.assigned_to for r in done for a in r.alerts} == {prescriber}
    assert SafetyAlert.objects.filter(response=done[0].response).count() == 1
    raised, recorded = (
        AuditEvent.Action.SAFETY_ALERT_RAISED,
        AuditEvent.Action.RESPONSE_RECORDED,
    )
    assert _recorded_events() == [
        (recorded, str(done[0].response.uuid)),
        (raised, str(done[0].alerts[0].uuid)),
        (recorded, str(done[1].response.uuid)),
        (recorded, str(done[2].response.uuid)),
        (raised, str(done[2].alerts[0].uuid)),
    ]


def test_responses_in_a_batch_fulfil_due_measures_in_turn(
    treated: Patient, second: Patient, nurse: User
) -> None:
    now = timezone.now()
    for n in range(2):
        schedule_measures(
            treated,
            trigger=schedules.Trigger.BEFORE_INFUSION,
            event_at=now + timedelta(hours=1 + 48 * n),
            event_ref=f"infusion:{n}",
        )
    schedule_measures(
        second,
        trigger=schedules.Trigger.BEFORE_INFUSION,
        event_at=now + timedelta(hours=1),
        event_ref="infusion:second",
    )
    due = list(
        DueMeasure.objects.filter(patient=treated, instrument_code="phq9").order_by(
            "due_at"
        )
    )

    done = record_responses(
        [
            _entry(treated, nurse, completed_at=now),
            _entry(treated, nurse, completed_at=now + timedelta(minutes=5)),
            # Long before its next item falls due: fulfils nothing, as alone.
            _entry(treated, nurse, completed_at=now + timedelta(minutes=10)),
            _entry(second, nurse, instrument_code="gad7", answers=GAD7),
        ]
    )

    for item in due:
        item.refresh_from_db()
    assert [(d.status, d.response_id) for d in due] == [
        (DueMeasure.Status.COMPLETED, done[0].response.pk),
        (DueMeasure.Status.DUE, None),
    ]
    # The other patient's PHQ-9 is still due: a GAD-7 does not fulfil it.
    assert (
        DueMeasure.objects.get(patient=second, instrument_code="phq9").status
        == DueMeasure.Status.DUE
    )


def test_an_unscorable_entry_anywhere_writes_nothing(
    treated: Patient, second: Patient, nurse: User
) -> None:
    bad = phq9(10)
    del bad["phq9-9"]
    events = AuditEvent.objects.count()
    seals = Seal.objects.count()

    with pytest.raises(InvalidResponse):
        record_responses(
            [
                _entry(treated, nurse, answers=phq9(20, item9=2)),
                _entry(second, nurse, answers=bad),
            ]
        )

    assert QuestionnaireResponse.objects.exists() is False
    assert SafetyAlert.objects.exists() is False
    assert AuditEvent.objects.count() == events
    assert Seal.objects.count() == seals


def test_an_empty_batch_writes_nothing(db: None) -> None:
    assert record_responses([]) == []


def test_a_key_already_stored_returns_that_response(
    treated: Patient, second: Patient, nurse: User
) -> None:
    key = uuid4()
    first = record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(14, item9=1),
        source=STAFF,
        by=nurse,
        submission_key=key,
    )

    done = record_responses(
        [
            _entry(second, nurse),
            _entry(treated, nurse, submission_key=key),
        ]
    )

    assert done[1].created is False
    assert done[1].response == first.response
    assert done[1].alerts == first.alerts
    assert QuestionnaireResponse.objects.filter(patient=treated).count() == 1
    assert QuestionnaireResponse.objects.filter(patient=second).count() == 1


def test_a_key_twice_in_one_batch_stores_one_response(
    treated: Patient, nurse: User
) -> None:
    key = uuid4()

    done = record_responses(
        [
            _entry(treated, nurse, submission_key=key, answers=phq9(14, item9=1)),
            _entry(treated, nurse, submission_key=key, answers=phq9(14, item9=1)),
        ]
    )

    assert [r.created for r in done] == [True, False]
    assert done[1].response == done[0].response
    assert done[1].alerts == done[0].alerts
    assert QuestionnaireResponse.objects.count() == 1
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.RESPONSE_RECORDED).count()
        == 1
    )


@pytest.mark.parametrize("stored_before", [True, False])
def test_another_patients_key_refuses_the_whole_batch(
    treated: Patient, second: Patient, nurse: User, stored_before: bool
) -> None:
    key = uuid4()
    entries = [
        _entry(second, nurse),
        _entry(treated, nurse, submission_key=key),
        _entry(second, nurse, submission_key=key),
    ]
    if stored_before:
        record_response(
            treated,
            instrument_code="phq9",
            answers=phq9(3),
            source=STAFF,
            by=nurse,
            submission_key=key,
        )
        entries = entries[:1] + entries[2:]
    responses_before = QuestionnaireResponse.objects.count()
    events = AuditEvent.objects.count()

    with pytest.raises(MeasuresError, match="belongs to another response"):
        record_responses(entries)

    assert QuestionnaireResponse.objects.count() == responses_before
    assert AuditEvent.objects.count() == events


def test_a_key_stored_concurrently_gives_that_response_and_stores_the_rest(
    treated: Patient, second: Patient, nurse: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = uuid4()
    raced = record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(5),
        source=STAFF,
        by=nurse,
        submission_key=key,
    )
    # As if another transaction stored it after this batch looked for its keys.
    monkeypatch.setattr(responses, "_existing_by_key", lambda entries: {})

    done = record_responses(
        [
            _entry(second, nurse, answers=phq9(7)),
            _entry(treated, nurse, submission_key=key),
            _entry(treated, nurse, answers=phq9(8)),
        ]
    )

    assert [r.created for r in done] == [True, False, True]
    assert done[1].response == raced.response
    assert [r.response.total for r in done] == [7, 5, 8]
    assert QuestionnaireResponse.objects.count() == 3
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.RESPONSE_RECORDED).count()
        == 3
    )
    assert verify_seals() == []


def test_a_batch_takes_a_fixed_number_of_queries_besides_one_audit_event_each(
    treated: Patient,
    second: Patient,
    nurse: User,
    django_assert_num_queries: Callable[[int], Any],
) -> None:
    def batch(count: int) -> list[NewResponse]:
        return [
            _entry(treated if n % 2 else second, nurse, answers=phq9(n % 20))
            for n in range(count)
        ]

    record_responses(batch(1))  # the audit chain's head exists from here on

    # Two savepoints (4 statements; the test's transaction is outside), one INSERT
    # of the responses, their seals (read back, insert), the due measures' locked
    # read, and one audit INSERT per response.
    with django_assert_num_queries(8 + 2):
        record_responses(batch(2))
    with django_assert_num_queries(8 + 12):
        record_responses(batch(12))
