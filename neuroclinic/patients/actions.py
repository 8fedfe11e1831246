"""Every write to patient data goes through a function here.

Each runs in one transaction and records an audit event; reads that the audit
must see (chart open, print, export) are recorded here too. Callers check
access first, through `neuroclinic.patients.access`.
"""

from datetime import date
from typing import Any, TypedDict, Unpack

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
    organization: Organization, *, family_name: str, given_name: str, birth_date: date
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


class DuplicatePatient(Exception):
    """A registration refused: the clinic may already have this patient.

    `existing` are the likely duplicates (at most DUPLICATE_LIMIT), for the caller to
    name by id; registering anyway takes `allow_duplicate=True`.
    """

    def __init__(self, existing: list[Patient]) -> None:
        super().__init__(f"{len(existing)} possible duplicate(s)")
        self.existing = existing


def _next_mrn(organization: Organization) -> str:
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    number = org.next_mrn
    org.next_mrn = number + 1
    org.save(update_fields=["next_mrn"])
    return f"{org.mrn_prefix}-{number:06d}"


class PatientDetails(TypedDict, total=False):
    """The demographics a registration may leave out (the model's defaults apply)."""

    middle_name: str
    preferred_name: str
    gender_identity: str
    pronouns: str
    phone: str
    email: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    preferred_language: str


class PatientChanges(PatientDetails, total=False):
    """What `update_patient` may change: any demographic, and the responsible prescriber."""

    family_name: str
    given_name: str
    birth_date: date
    sex_at_birth: str
    prescriber: User | None


@transaction.atomic
def register_patient(
    organization: Organization,
    *,
    family_name: str,
    given_name: str,
    birth_date: date,
    sex_at_birth: str,
    by: User | None,
    **details: Unpack[PatientDetails],
) -> Patient:
    """A new patient with the organization's next MRN, with no duplicate check: for
    the demo, fixtures and callers that ran their own (the consult-request
    conversion). The doors where staff register people use `register_new_patient`."""
    return _register(
        organization,
        family_name=family_name,
        given_name=given_name,
        birth_date=birth_date,
        sex_at_birth=sex_at_birth,
        by=by,
        audit={},
        details=details,
    )


def _register(
    organization: Organization,
    *,
    family_name: str,
    given_name: str,
    birth_date: date,
    sex_at_birth: str,
    by: User | None,
    audit: dict[str, Any],
    details: PatientDetails,
) -> Patient:
    patient = Patient(
        organization=organization,
        created_by=by,
        family_name=family_name,
        given_name=given_name,
        birth_date=birth_date,
        sex_at_birth=sex_at_birth,
        **details,
    )
    patient.mrn = _next_mrn(organization)
    patient.refresh_search_keys()
    patient.save(force_insert=True)
    record(
        AuditEvent.Action.PATIENT_REGISTERED,
        actor=by,
        patient=patient,
        subject=patient,
        mrn=patient.mrn,
        **audit,
    )
    return patient


@transaction.atomic
def register_new_patient(
    organization: Organization,
    *,
    family_name: str,
    given_name: str,
    birth_date: date,
    sex_at_birth: str,
    allow_duplicate: bool,
    by: User,
    via: str,
    **details: Unpack[PatientDetails],
) -> Patient:
    """Register a patient after the duplicate check every door runs (the staff page,
    `POST /api/patients`, FHIR create and import): the one rule is
    `possible_duplicates` (same birth date, similar name).

    A likely duplicate raises DuplicatePatient and writes nothing, unless the caller
    says the person is different (`allow_duplicate`); then the registration's audit
    event names the patients it was confirmed against. The clinic's row is locked
    first, so two registrations of one person at once cannot both pass the check.
    """
    Organization.objects.select_for_update().filter(pk=organization.pk).exists()
    duplicates = list(
        possible_duplicates(
            organization,
            family_name=family_name,
            given_name=given_name,
            birth_date=birth_date,
        ).order_by("id")[:DUPLICATE_LIMIT]
    )
    if duplicates and not allow_duplicate:
        raise DuplicatePatient(duplicates)
    audit: dict[str, Any] = {"via": via}
    if duplicates:
        audit["confirmed_not_duplicate_of"] = [str(p.uuid) for p in duplicates]
    return _register(
        organization,
        family_name=family_name,
        given_name=given_name,
        birth_date=birth_date,
        sex_at_birth=sex_at_birth,
        by=by,
        audit=audit,
        details=details,
    )


def _audit_value(value: object) -> object:
    # A changed prescriber is recorded as who it is, not as a database id.
    return value.username if isinstance(value, User) else value


@transaction.atomic
def update_patient(
    patient: Patient, *, by: User, **changes: Unpack[PatientChanges]
) -> Patient:
    """Change demographics (or the prescriber); the audit event keeps old and new values.

    A name, birth date or phone a receptionist mistyped must be traceable to
    what it was, as Zulip's RealmAuditLog keeps both sides of a change.
    """
    changed = {
        name: {
            "old": _audit_value(getattr(patient, name)),
            "new": _audit_value(value),
        }
        for name, value in changes.items()
        if getattr(patient, name) != value
    }
    if not changed:
        return patient
    for name, value in changes.items():
        setattr(patient, name, value)
    patient.refresh_search_keys()
    patient.save(
        update_fields=[
            *changed,
            "family_name_search",
            "given_name_search",
            "preferred_name_search",
            "phone_search",
            "updated_at",
        ]
    )
    record(
        AuditEvent.Action.PATIENT_UPDATED,
        actor=by,
        patient=patient,
        subject=patient,
        fields=sorted(changed),
        changes=changed,
    )
    return patient


def _add(
    patient: Patient, model_obj: Model, action: AuditEvent.Action, by: User
) -> None:
    model_obj.save(force_insert=True)
    record(action, actor=by, patient=patient, subject=model_obj)


@transaction.atomic
def add_contact(
    patient: Patient,
    *,
    kind: str,
    name: str,
    phone: str,
    relationship: str = "",
    email: str = "",
    by: User,
) -> Contact:
    contact = Contact(
        patient=patient,
        kind=kind,
        name=name,
        relationship=relationship,
        phone=phone,
        email=email,
    )
    _add(patient, contact, AuditEvent.Action.CONTACT_ADDED, by)
    return contact


@transaction.atomic
def add_care_team_provider(
    patient: Patient,
    *,
    role: str,
    name: str,
    npi: str = "",
    practice: str = "",
    phone: str = "",
    fax: str = "",
    email: str = "",
    by: User,
) -> CareTeamProvider:
    provider = CareTeamProvider(
        patient=patient,
        role=role,
        name=name,
        npi=npi,
        practice=practice,
        phone=phone,
        fax=fax,
        email=email,
    )
    _add(patient, provider, AuditEvent.Action.PROVIDER_ADDED, by)
    return provider


@transaction.atomic
def add_diagnosis(
    patient: Patient, *, icd10_code: str, description: str, by: User
) -> Diagnosis:
    diagnosis = Diagnosis(
        patient=patient, recorded_by=by, icd10_code=icd10_code, description=description
    )
    _add(patient, diagnosis, AuditEvent.Action.DIAGNOSIS_ADDED, by)
    return diagnosis


@transaction.atomic
def add_medication(
    patient: Patient, *, name: str, dose: str = "", by: User
) -> Medication:
    medication = Medication(patient=patient, recorded_by=by, name=name, dose=dose)
    _add(patient, medication, AuditEvent.Action.MEDICATION_ADDED, by)
    return medication


@transaction.atomic
def add_allergy(
    patient: Patient,
    *,
    substance: str,
    reaction: str = "",
    severity: str = Allergy.Severity.UNKNOWN,
    by: User,
) -> Allergy:
    allergy = Allergy(
        patient=patient,
        recorded_by=by,
        substance=substance,
        reaction=reaction,
        severity=severity,
    )
    _add(patient, allergy, AuditEvent.Action.ALLERGY_ADDED, by)
    return allergy


@transaction.atomic
def end_list_entry(
    entry: ClinicalListEntry, *, reason: str, by: User
) -> ClinicalListEntry:
    """End a diagnosis, medication or allergy; the row stays, with who, when and why."""
    if entry.ended_at is not None:
        return entry
    entry.ended_at = timezone.now()
    entry.ended_by = by
    entry.end_reason = reason
    entry.save(update_fields=["ended_at", "ended_by", "end_reason"])
    record(
        AuditEvent.Action.LIST_ENTRY_ENDED,
        actor=by,
        patient=entry.patient,  # type: ignore[attr-defined]  # every concrete entry has one
        subject=entry,
        reason=reason,
    )
    return entry


def record_chart_access(
    patient: Patient, *, action: AuditEvent.Action, by: User, **data: Any
) -> None:
    record(action, actor=by, patient=patient, subject=patient, **data)


def record_search(query: str, results: list[Patient], *, by: User, via: str) -> None:
    """A search shows names and dates of birth, so who saw which patients is recorded.

    No transaction of its own: `record()` is one statement, which commits on its
    own outside a transaction (one round trip for the audited read).
    """
    record(
        AuditEvent.Action.PATIENTS_SEARCHED,
        actor=by,
        query=query,
        via=via,
        results=[str(p.uuid) for p in results],
    )
