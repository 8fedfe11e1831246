"""Importing a FHIR Bundle: POST /fhir/ (transaction or batch), POST /fhir/<Type>
(create) and `neuroclinic import fhir`.

Each entry is parsed (`fhir.inbound`: structure checked with fhir.resources, then
read), its subject resolved (a Patient earlier in the Bundle, or one of ours through
`Patient.objects.visible_to`), and written by the apps' own actions
(`register_new_patient` with the duplicate check every door runs, `add_diagnosis`,
`add_allergy`, `add_medication`, `record_response`; imported vitals here), so each
record has its own audit event as from a page. What is already recorded is matched,
not written again (importing a Bundle twice adds nothing); what we do not keep is
skipped with the reason.

- A transaction Bundle is all or nothing (FHIR R4 3.1.0.11.2): one failed entry
  refuses the Bundle with every problem listed, and nothing is written.
- A batch (or collection) Bundle answers each entry on its own: the entries that can
  be written are, each failed one writes nothing and gets its status and problems.

Every import that writes anything records one `patients.fhir_imported` event with
what each entry came to.
"""

import contextlib
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.interop.fhir.clinical import imported_observation_id
from neuroclinic.interop.fhir.inbound import (
    AllergyIn,
    ConditionIn,
    Entry,
    MedicationIn,
    ObservationIn,
    PatientIn,
    Problem,
    ResponseIn,
    Skipped,
    parse_bundle,
    parse_entry,
)
from neuroclinic.interop.models import ImportedObservation, PatientIdentifier
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients import actions as patients
from neuroclinic.patients.models import Allergy, Diagnosis, Medication, Patient

Outcome = Literal["created", "matched", "skipped", "failed"]
_STATUS_TEXT = {
    200: "200 OK",
    201: "201 Created",
    404: "404 Not Found",
    409: "409 Conflict",
    422: "422 Unprocessable Entity",
    424: "424 Failed Dependency",
}


class ImportRefused(Exception):
    """The Bundle was refused; `problems` lists every entry at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems

    @property
    def status(self) -> int:
        """409 when the causes are all likely duplicates (entries that failed only
        because their Patient did, 424, are not causes), else 422."""
        causes = [p for p in self.problems if p.status != 424]
        return 409 if causes and all(p.status == 409 for p in causes) else 422


@dataclass
class EntryResult:
    index: int
    resource_type: str
    outcome: Outcome
    location_type: str = ""
    id: UUID | None = None
    message: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> int:
        if self.outcome == "created":
            return 201
        if self.outcome == "failed":
            statuses = {p.status for p in self.problems}
            return statuses.pop() if len(statuses) == 1 else 422
        return 200

    @property
    def status_text(self) -> str:
        return _STATUS_TEXT.get(self.status, str(self.status))

    @property
    def location(self) -> str:
        if not self.id:
            return ""
        if self.location_type == "Observation":
            # The only Observations an import writes are imported ones.
            return f"Observation/{imported_observation_id(self.id)}"
        return f"{self.location_type}/{self.id}"


class _EntryFailed(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("entry failed")
        self.problems = problems


@dataclass
class _Run:
    organization: Organization
    by: User
    in_bundle: dict[str, Entry]
    made: dict[int, Patient] = field(default_factory=dict)


def _subject(ref: str, at: str, run: _Run) -> Patient:
    if ref in run.in_bundle:
        target = run.in_bundle[ref]
        if target.index in run.made:
            return run.made[target.index]
        raise _EntryFailed(
            [
                Problem(
                    at,
                    f"The Patient it refers to (entry {target.index}) was not imported.",
                    status=424,
                )
            ]
        )
    found = None
    if ref.startswith("Patient/"):
        try:
            patient_uuid = UUID(ref.removeprefix("Patient/"))
        except ValueError:
            patient_uuid = None
        if patient_uuid is not None:
            found = Patient.objects.visible_to(run.by).filter(uuid=patient_uuid).first()
    if found is None:
        raise _EntryFailed(
            [
                Problem(
                    at,
                    "The subject is neither a Patient in this Bundle nor one of ours.",
                    status=404,
                )
            ]
        )
    return found


def _identifier_owners(value: PatientIn, run: _Run) -> dict[tuple[str, str], Patient]:
    """Which of our patients already hold the Patient's outside identifiers."""
    q = Q(pk__in=[])
    for system, number in value.identifiers:
        q |= Q(system=system, value=number)
    found = PatientIdentifier.objects.filter(q, organization=run.organization)
    return {(i.system, i.value): i.patient for i in found.select_related("patient")}


def _keep_identifiers(
    patient: Patient,
    value: PatientIn,
    owners: dict[tuple[str, str], Patient],
    at: str,
    run: _Run,
) -> None:
    """Record the outside identifiers this patient does not hold yet; one held by
    another of our patients is a conflict (one identifier names one person)."""
    for system, number in value.identifiers:
        owner = owners.get((system, number))
        if owner is not None and owner.pk != patient.pk:
            raise _EntryFailed(
                [
                    Problem(
                        f"{at}.identifier",
                        f"{system}|{number} already names Patient/{owner.uuid}.",
                        status=409,
                    )
                ]
            )
        if owner is None:
            row = PatientIdentifier.objects.create(
                organization=run.organization,
                patient=patient,
                system=system,
                value=number,
                recorded_at=timezone.now(),
                recorded_by=run.by,
            )
            record(
                AuditEvent.Action.IDENTIFIER_ADDED,
                actor=run.by,
                patient=patient,
                subject=row,
                via="fhir",
                system=system,
            )


def _patient(e: Entry, value: PatientIn, run: _Run) -> EntryResult:
    at = f"Bundle.entry[{e.index}].resource"
    ours = Patient.objects.visible_to(run.by)
    owners = _identifier_owners(value, run)
    existing = None
    how = ""
    with contextlib.suppress(ValueError):
        existing = ours.filter(uuid=UUID(value.resource_id)).first()
        how = "same id"
    if existing is None and value.mrn:
        # An MRN alone could be another clinic's number: the birth date must agree.
        existing = ours.filter(mrn=value.mrn, birth_date=value.birth_date).first()
        how = "same MRN and birth date"
    if existing is None and owners:
        # Another system's identifier names one patient here (the first one the
        # Patient lists that we hold); a second that names another patient is a
        # conflict, reported by _keep_identifiers.
        held = [owners[i] for i in value.identifiers if i in owners]
        existing = ours.filter(pk=held[0].pk).first()
        how = "same identifier"
    if existing is not None:
        _keep_identifiers(existing, value, owners, at, run)
        run.made[e.index] = existing
        return EntryResult(
            e.index,
            "Patient",
            "matched",
            "Patient",
            existing.uuid,
            f"Already registered here ({how}); nothing written.",
        )
    try:
        patient = patients.register_new_patient(
            run.organization,
            family_name=value.family_name,
            given_name=value.given_name,
            birth_date=value.birth_date,
            sex_at_birth=value.sex_at_birth,
            allow_duplicate=value.allow_duplicate,
            by=run.by,
            via="fhir",
            **value.details,
        )
    except patients.DuplicatePatient as exc:
        ids = ", ".join(f"Patient/{p.uuid}" for p in exc.existing)
        raise _EntryFailed(
            [
                Problem(
                    at,
                    f"A possible duplicate of {ids} (same birth date, similar name)."
                    " If this is a different person, add the extension"
                    " confirmed-not-duplicate (valueBoolean true) to the Patient.",
                    status=409,
                )
            ]
        ) from None
    _keep_identifiers(patient, value, owners, at, run)
    run.made[e.index] = patient
    return EntryResult(e.index, "Patient", "created", "Patient", patient.uuid)


def _matched(e: Entry, location_type: str, found_uuid: UUID) -> EntryResult:
    return EntryResult(
        e.index,
        e.resource_type,
        "matched",
        location_type,
        found_uuid,
        "Already recorded; nothing written.",
    )


def _observation(
    e: Entry, value: ObservationIn, patient: Patient, run: _Run
) -> EntryResult:
    at = f"Bundle.entry[{e.index}].resource"
    rows: list[ImportedObservation] = []
    created = False
    for v in value.values:
        found = ImportedObservation.objects.filter(
            patient=patient, loinc_code=v.code, effective_at=value.effective
        ).first()
        if found is not None:
            if found.value != v.value or found.unit != v.unit:
                raise _EntryFailed(
                    [
                        Problem(
                            at,
                            f"{v.name} at that time is already recorded with another"
                            f" value ({found.value} {found.unit}).",
                            status=409,
                        )
                    ]
                )
            rows.append(found)
            continue
        row = ImportedObservation.objects.create(
            organization=run.organization,
            patient=patient,
            loinc_code=v.code,
            name=v.name,
            value=v.value,
            unit=v.unit,
            effective_at=value.effective,
            imported_at=timezone.now(),
            imported_by=run.by,
        )
        record(
            AuditEvent.Action.OBSERVATION_IMPORTED,
            actor=run.by,
            patient=patient,
            subject=row,
            via="fhir",
            loinc=v.code,
        )
        rows.append(row)
        created = True
    if not created:
        return _matched(e, "Observation", rows[0].uuid)
    return EntryResult(e.index, "Observation", "created", "Observation", rows[0].uuid)


def _clinical(e: Entry, run: _Run) -> EntryResult:
    value = e.value
    at = f"Bundle.entry[{e.index}].resource"
    assert value is not None
    assert not isinstance(value, PatientIn | Skipped)
    element = "patient" if isinstance(value, AllergyIn) else "subject"
    patient = _subject(value.subject, f"{at}.{element}", run)
    if isinstance(value, ConditionIn):
        diagnosis = Diagnosis.objects.filter(
            patient=patient, icd10_code=value.icd10_code, ended_at__isnull=True
        ).first()
        if diagnosis is not None:
            return _matched(e, "Condition", diagnosis.uuid)
        diagnosis = patients.add_diagnosis(
            patient,
            icd10_code=value.icd10_code,
            description=value.description,
            by=run.by,
        )
        return EntryResult(e.index, "Condition", "created", "Condition", diagnosis.uuid)
    if isinstance(value, AllergyIn):
        allergy = Allergy.objects.filter(
            patient=patient, substance__iexact=value.substance, ended_at__isnull=True
        ).first()
        if allergy is not None:
            return _matched(e, "AllergyIntolerance", allergy.uuid)
        allergy = patients.add_allergy(
            patient,
            substance=value.substance,
            reaction=value.reaction,
            severity=value.severity,
            by=run.by,
        )
        return EntryResult(
            e.index, e.resource_type, "created", "AllergyIntolerance", allergy.uuid
        )
    if isinstance(value, MedicationIn):
        medication = Medication.objects.filter(
            patient=patient, name__iexact=value.name, ended_at__isnull=True
        ).first()
        if medication is not None:
            return _matched(e, "MedicationStatement", medication.uuid)
        medication = patients.add_medication(
            patient, name=value.name, dose=value.dose, by=run.by
        )
        return EntryResult(
            e.index, e.resource_type, "created", "MedicationStatement", medication.uuid
        )
    if isinstance(value, ObservationIn):
        return _observation(e, value, patient, run)
    assert isinstance(value, ResponseIn)
    response = QuestionnaireResponse.objects.filter(
        patient=patient,
        instrument_code=value.instrument_code,
        completed_at=value.authored,
    ).first()
    if response is not None:
        return _matched(e, "QuestionnaireResponse", response.uuid)
    recorded = record_response(
        patient,
        instrument_code=value.instrument_code,
        answers=value.answers,
        source=QuestionnaireResponse.Source.API,
        completed_at=value.authored,
        by=run.by,
    )
    return EntryResult(
        e.index,
        "QuestionnaireResponse",
        "created",
        "QuestionnaireResponse",
        recorded.response.uuid,
    )


def _one(e: Entry, run: _Run) -> EntryResult:
    """One entry in its own savepoint: written whole, or not at all."""
    if e.problems:
        return EntryResult(e.index, e.resource_type, "failed", problems=e.problems)
    if isinstance(e.value, Skipped):
        return EntryResult(e.index, e.resource_type, "skipped", message=e.value.reason)
    try:
        with transaction.atomic():
            if isinstance(e.value, PatientIn):
                return _patient(e, e.value, run)
            return _clinical(e, run)
    except _EntryFailed as exc:
        return EntryResult(e.index, e.resource_type, "failed", problems=exc.problems)


def _run(entries: list[Entry], run: _Run) -> list[EntryResult]:
    # Patients first, so the entries that refer to them find them.
    ordered = sorted(entries, key=lambda e: not isinstance(e.value, PatientIn))
    results = [_one(e, run) for e in ordered]
    return sorted(results, key=lambda r: r.index)


def _record_import(results: list[EntryResult], *, bundle_type: str, run: _Run) -> None:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    if not counts.get("created"):
        return
    record(
        AuditEvent.Action.FHIR_IMPORTED,
        actor=run.by,
        organization=run.organization,
        via="fhir",
        bundle_type=bundle_type,
        counts=counts,
        entries=[
            {"entry": r.index, "type": r.resource_type, "outcome": r.outcome}
            | ({"id": str(r.id)} if r.id else {})
            for r in results
        ],
    )


def _in_bundle(entries: list[Entry]) -> dict[str, Entry]:
    """Patient entries by fullUrl (the first with each), failed ones included: an
    entry that refers to one that failed fails with 424, not as an unknown subject."""
    found: dict[str, Entry] = {}
    for e in entries:
        if e.resource_type == "Patient" and e.full_url:
            found.setdefault(e.full_url, e)
    return found


def import_bundle(
    bundle: Any, *, organization: Organization, by: User
) -> list[EntryResult]:
    """Import a transaction (all or nothing) or batch (each entry on its own) Bundle.

    Raises ImportRefused for a Bundle that is not one, or a transaction with any
    failed entry (nothing written); otherwise one result per entry, in order.
    """
    parsed = parse_bundle(bundle)
    if parsed.problems:
        raise ImportRefused(parsed.problems)
    run = _Run(organization, by, _in_bundle(parsed.entries))
    if parsed.type != "transaction":
        with transaction.atomic():
            results = _run(parsed.entries, run)
            _record_import(results, bundle_type=parsed.type, run=run)
        return results
    with transaction.atomic():
        results = _run(parsed.entries, run)
        problems = [p for r in results for p in r.problems]
        if problems:
            raise ImportRefused(problems)  # rolls back every entry written
        _record_import(results, bundle_type=parsed.type, run=run)
    return results


def create_resource(
    resource: Any, *, organization: Organization, by: User
) -> EntryResult:
    """POST /fhir/<Type>: one resource, as a batch of one entry."""
    entry = parse_entry(0, {"resource": resource})
    run = _Run(organization, by, {})
    with transaction.atomic():
        result = _one(entry, run)
        _record_import([result], bundle_type="create", run=run)
    return result
