"""Reads: the facts each quality measure needs, per patient, in three queries."""

from collections import defaultdict
from datetime import date

from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.outcomes.quality import PatientFacts
from neuroclinic.patients.models import Diagnosis, Patient


def quality_cohort(
    organization_id: int,
) -> tuple[list[PatientFacts], dict[str, Patient]]:
    """Every patient of the clinic with a PHQ-9, as measure facts; refs map back to charts."""
    scores: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for patient_id, taken_at, total in (
        QuestionnaireResponse.objects.filter(
            organization_id=organization_id,
            instrument_code="phq9",
            amended_by__isnull=True,
            total__isnull=False,
        )
        .order_by()
        .values_list("patient_id", "completed_at", "total")
    ):
        if total is not None:
            scores[patient_id].append((taken_at.date(), total))
    diagnoses: dict[int, list[str]] = defaultdict(list)
    for patient_id, code in Diagnosis.objects.filter(
        patient_id__in=list(scores)
    ).values_list("patient_id", "icd10_code"):
        diagnoses[patient_id].append(code)
    patients = {
        str(p.uuid): p
        for p in Patient.objects.filter(pk__in=list(scores)).order_by("mrn")
    }
    facts = [
        PatientFacts(
            ref=ref,
            birth_date=p.birth_date,
            diagnosis_codes=tuple(diagnoses.get(p.pk, ())),
            phq9=tuple(sorted(scores[p.pk])),
        )
        for ref, p in patients.items()
    ]
    return facts, patients
