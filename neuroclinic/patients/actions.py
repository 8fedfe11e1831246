"""Every write to patient data goes through a function here.

Each runs in one transaction and records an audit event; reads that the audit
must see (chart open, print, export) are recorded here too. Callers check
access first, through `neuroclinic.patients.access`.
"""

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.lib.text import search_key
from neuroclinic.patients.models import (
    Allergy,
    CareTeamProvider,
    ClinicalListEntry,
    Contact,
    Diagnosis,
    Medication,
    Patient,
    PatientQuerySet,
)

DUPLICATE_LIMIT = 5


def possible_duplicates(
    organization: Organization, *, family_name: str, given_name: str, birth_date: Any
) -> PatientQuerySet:
    """Patients with the same date of birth and a similar name.

    "Similar" is deliberately loose (either name's first three letters), since
    a missed duplicate costs more than a second look.
    """
    family = search_key(family_name)[:3]
    given = search_key(given_name)[:3]
    return Patient.objects.filter(
        organization=organization, birth_date=birth_date
    ).filter(family_name_search__startswith=family) | Patient.objects.filter(
        organization=organization,
        birth_date=birth_date,
        given_name_search__startswith=given,
    )


def _next_mrn(organization: Organization) -> str:
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    number = org.next_mrn
    org.next_mrn = number + 1
    org.save(update_fields=["next_mrn"])
    return f"{org.mrn_prefix}-{number:06d}"


@transaction.atomic
def register_patient(
    organization: Organization, *, registered_by: User | None, **fields: Any
) -> Patient:
    patient = Patient(organization=organization, created_by=registered_by, **fields)
    patient.mrn = _next_mrn(organization)
    patient.refresh_search_keys()
    patient.save(force_insert=True)
    record(
        AuditEvent.Action.PATIENT_REGISTERED,
        actor=registered_by,
        patient=patient,
        subject=patient,
        mrn=patient.mrn,
    )
    return patient


@transaction.atomic
def update_patient(patient: Patient, *, updated_by: User, **fields: Any) -> Patient:
    changes = {
        name: {"old": getattr(patient, name), "new": value}
        for name, value in fields.items()
        if getattr(patient, name) != value
    }
    if not changes:
        return patient
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.refresh_search_keys()
    patient.save(
        update_fields=[
            *changes,
            "family_name_search",
            "given_name_search",
            "preferred_name_search",
            "phone_search",
            "updated_at",
        ]
    )
    record(
        AuditEvent.Action.PATIENT_UPDATED,
        actor=updated_by,
        patient=patient,
        subject=patient,
        fields=sorted(changes),
    )
    return patient


def _add(
    patient: Patient, model_obj: Model, action: AuditEvent.Action, actor: User
) -> None:
    model_obj.save(force_insert=True)
    record(action, actor=actor, patient=patient, subject=model_obj)


@transaction.atomic
def add_contact(patient: Patient, *, added_by: User, **fields: Any) -> Contact:
    contact = Contact(patient=patient, **fields)
    _add(patient, contact, AuditEvent.Action.CONTACT_ADDED, added_by)
    return contact


@transaction.atomic
def add_care_team_provider(
    patient: Patient, *, added_by: User, **fields: Any
) -> CareTeamProvider:
    provider = CareTeamProvider(patient=patient, **fields)
    _add(patient, provider, AuditEvent.Action.PROVIDER_ADDED, added_by)
    return provider


@transaction.atomic
def add_diagnosis(patient: Patient, *, added_by: User, **fields: Any) -> Diagnosis:
    diagnosis = Diagnosis(patient=patient, recorded_by=added_by, **fields)
    _add(patient, diagnosis, AuditEvent.Action.DIAGNOSIS_ADDED, added_by)
    return diagnosis


@transaction.atomic
def add_medication(patient: Patient, *, added_by: User, **fields: Any) -> Medication:
    medication = Medication(patient=patient, recorded_by=added_by, **fields)
    _add(patient, medication, AuditEvent.Action.MEDICATION_ADDED, added_by)
    return medication


@transaction.atomic
def add_allergy(patient: Patient, *, added_by: User, **fields: Any) -> Allergy:
    allergy = Allergy(patient=patient, recorded_by=added_by, **fields)
    _add(patient, allergy, AuditEvent.Action.ALLERGY_ADDED, added_by)
    return allergy


@transaction.atomic
def end_list_entry(
    entry: ClinicalListEntry, *, reason: str, ended_by: User
) -> ClinicalListEntry:
    """End a diagnosis, medication or allergy; the row stays, with who, when and why."""
    if entry.ended_at is not None:
        return entry
    entry.ended_at = timezone.now()
    entry.ended_by = ended_by
    entry.end_reason = reason
    entry.save(update_fields=["ended_at", "ended_by", "end_reason"])
    record(
        AuditEvent.Action.LIST_ENTRY_ENDED,
        actor=ended_by,
        patient=entry.patient,  # type: ignore[attr-defined]  # every concrete entry has one
        subject=entry,
        reason=reason,
    )
    return entry


@transaction.atomic
def record_chart_access(
    patient: Patient, *, action: AuditEvent.Action, by: User, **data: Any
) -> None:
    record(action, actor=by, patient=patient, subject=patient, **data)


@transaction.atomic
def record_search(query: str, results: list[Patient], *, by: User, via: str) -> None:
    """A search shows names and dates of birth, so who saw which patients is recorded."""
    record(
        AuditEvent.Action.PATIENTS_SEARCHED,
        actor=by,
        query=query,
        via=via,
        results=[str(p.uuid) for p in results],
    )
