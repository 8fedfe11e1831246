"""Importing a FHIR transaction Bundle: all of it, or nothing.

Every entry is parsed (`fhir.inbound`), every reference resolved and every duplicate
looked for before anything is written; one problem anywhere refuses the whole Bundle
with the list of problems, and nothing is written. The writes are the apps' own
actions (`register_patient`, `add_diagnosis`, `record_response`), so each creates its
own audit event as it would from a page.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.interop.fhir.inbound import (
    ConditionIn,
    Entry,
    PatientIn,
    Problem,
    ResponseIn,
    parse_bundle,
)
from neuroclinic.lib.text import search_key
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients import actions as patients
from neuroclinic.patients.models import Diagnosis, Patient


class ImportRefused(Exception):
    """The Bundle was refused; `problems` lists every entry at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    index: int
    resource_type: str
    id: UUID


def _patient_key(p: PatientIn) -> tuple[str, str, str]:
    return (
        search_key(p.family_name),
        search_key(p.given_name),
        p.birth_date.isoformat(),
    )


def _resolve(
    ref: str,
    at: str,
    in_bundle: dict[str, Entry],
    organization: Organization,
    problems: list[Problem],
) -> Entry | Patient | None:
    if ref in in_bundle:
        return in_bundle[ref]
    if ref.startswith("Patient/"):
        try:
            patient_uuid = UUID(ref.removeprefix("Patient/"))
        except ValueError:
            patient_uuid = None
        found = (
            Patient.objects.filter(organization=organization, uuid=patient_uuid).first()
            if patient_uuid
            else None
        )
        if found is not None:
            return found
    problems.append(
        Problem(at, "The subject is neither a Patient in this Bundle nor one of ours.")
    )
    return None


def check_bundle(
    bundle: Any, organization: Organization
) -> tuple[list[Entry], dict[int, Entry | Patient]]:
    """Parse and check everything; raise ImportRefused listing every problem."""
    parsed = parse_bundle(bundle)
    problems = list(parsed.problems)
    in_bundle = {
        e.full_url: e
        for e in parsed.entries
        if e.resource_type == "Patient" and e.full_url
    }
    seen_patients: dict[tuple[str, str, str], int] = {}
    subjects: dict[int, Entry | Patient] = {}
    seen_conditions: set[tuple[int, str, str]] = set()
    seen_responses: set[tuple[int, str, str, str]] = set()
    for e in parsed.entries:
        at = f"Bundle.entry[{e.index}].resource"
        value = e.value
        if isinstance(value, PatientIn):
            key = _patient_key(value)
            if key in seen_patients:
                problems.append(
                    Problem(at, f"The same patient as entry {seen_patients[key]}.")
                )
            seen_patients[key] = e.index
            existing = patients.possible_duplicates(
                organization,
                family_name=value.family_name,
                given_name=value.given_name,
                birth_date=value.birth_date,
            ).first()
            if existing is not None:
                problems.append(
                    Problem(
                        at,
                        f"A possible duplicate of Patient/{existing.uuid} (same birth date, similar name).",
                    )
                )
            continue
        subject = _resolve(
            value.subject, f"{at}.subject", in_bundle, organization, problems
        )
        if subject is None:
            continue
        subjects[e.index] = subject
        subject_key = id(subject)
        if isinstance(value, ConditionIn):
            ckey = (subject_key, value.icd10_code, "")
            if ckey in seen_conditions or (
                isinstance(subject, Patient)
                and Diagnosis.objects.filter(
                    patient=subject, icd10_code=value.icd10_code, ended_at__isnull=True
                ).exists()
            ):
                problems.append(
                    Problem(
                        at,
                        f"{value.icd10_code} is already on the patient's problem list.",
                    )
                )
            seen_conditions.add(ckey)
        elif isinstance(value, ResponseIn):
            rkey = (subject_key, value.instrument_code, value.authored.isoformat(), "")
            if rkey in seen_responses or (
                isinstance(subject, Patient)
                and QuestionnaireResponse.objects.filter(
                    patient=subject,
                    instrument_code=value.instrument_code,
                    completed_at=value.authored,
                ).exists()
            ):
                problems.append(
                    Problem(
                        at,
                        "This response is already recorded (same questionnaire and time).",
                    )
                )
            seen_responses.add(rkey)
    if problems:
        raise ImportRefused(problems)
    return parsed.entries, subjects


@transaction.atomic
def import_bundle(
    bundle: Any, *, organization: Organization, by: User
) -> list[Imported]:
    """Import a transaction Bundle of Patient, Condition and QuestionnaireResponse."""
    entries, subjects = check_bundle(bundle, organization)
    made: dict[int, Patient] = {}
    done: list[Imported] = []
    for e in entries:
        value = e.value
        if isinstance(value, PatientIn):
            patient = patients.register_patient(
                organization,
                family_name=value.family_name,
                given_name=value.given_name,
                birth_date=value.birth_date,
                sex_at_birth=value.sex_at_birth,
                by=by,
                **value.details,
            )
            made[e.index] = patient
            done.append(Imported(e.index, "Patient", patient.uuid))
    for e in entries:
        value = e.value
        if isinstance(value, PatientIn):
            continue
        subject = subjects[e.index]
        patient = subject if isinstance(subject, Patient) else made[subject.index]
        if isinstance(value, ConditionIn):
            diagnosis = patients.add_diagnosis(
                patient,
                icd10_code=value.icd10_code,
                description=value.description,
                by=by,
            )
            done.append(Imported(e.index, "Condition", diagnosis.uuid))
        elif isinstance(value, ResponseIn):
            recorded = record_response(
                patient,
                instrument_code=value.instrument_code,
                answers=value.answers,
                source=QuestionnaireResponse.Source.API,
                completed_at=value.authored,
                by=by,
            )
            done.append(
                Imported(e.index, "QuestionnaireResponse", recorded.response.uuid)
            )
    return sorted(done, key=lambda i: i.index)
