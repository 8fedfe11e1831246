"""Work for the worker tests: an overdue safety alert and questionnaires due for reminding."""

from datetime import timedelta

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.due_measures import schedule_measures
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.patients.models import Patient


def overdue_alert(patient: Patient, *, prescriber: User, nurse: User) -> SafetyAlert:
    patient.prescriber = prescriber
    patient.save(update_fields=["prescriber"])
    alert = record_response(
        patient,
        instrument_code="phq9",
        answers=phq9(6, item9=1),
        source=QuestionnaireResponse.Source.STAFF,
        by=nurse,
    ).alerts[0]
    unguarded_update(
        SafetyAlert.objects.filter(pk=alert.pk),
        raised_at=timezone.now() - timedelta(hours=2),
    )
    return alert


def due_questionnaires(patient: Patient) -> None:
    schedule_measures(
        patient,
        trigger=schedules.Trigger.INTAKE,
        event_at=timezone.now() - timedelta(hours=1),
        event_ref="intake",
    )
