"""What the infusion and TMS checklists ask of intake before treatment may start.

Each function returns why treatment may not start, or None. They read only;
the checklist shows the reason and refuses "ready to treat" (a hard stop
before an infusion starts: consent current; docs/intake.md).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
)
from neuroclinic.patients.models import Patient

Kind = ConsentDocument.Kind

# Which consents each treatment needs. Communication preferences are asked for
# at intake but never hold up treatment.
REQUIRED_CONSENTS: dict[str, tuple[ConsentDocument.Kind, ...]] = {
    "ketamine": (Kind.KETAMINE, Kind.PRIVACY, Kind.FINANCIAL),
    "tms": (Kind.TMS, Kind.PRIVACY, Kind.FINANCIAL),
}


@dataclass(frozen=True)
class ConsentState:
    kind: ConsentDocument.Kind
    current: ConsentDocument | None
    signed: ConsentSignature | None  # the patient's newest signature of this kind

    @property
    def is_current(self) -> bool:
        return (
            self.current is not None
            and self.signed is not None
            and self.signed.document_id == self.current.pk
        )

    @property
    def label(self) -> str:
        return str(self.kind.label)

    @property
    def status(self) -> str:
        if self.current is None:
            return "no form published"
        if self.signed is None:
            return "not signed"
        if not self.is_current:
            return (
                f"version {self.signed.document.version} signed; "
                f"version {self.current.version} needs signing"
            )
        return f"signed (version {self.current.version})"


def current_documents(organization_id: int) -> dict[str, ConsentDocument]:
    """The newest version of each consent form the clinic has published."""
    current: dict[str, ConsentDocument] = {}
    for document in ConsentDocument.objects.filter(
        organization_id=organization_id
    ).order_by("kind", "-version"):
        current.setdefault(document.kind, document)
    return current


def consent_states(patient: Patient) -> list[ConsentState]:
    """Every consent kind, with the current version and the patient's newest signature."""
    return consent_states_for(patient.organization_id, [patient.pk])[patient.pk]


def consent_states_for(
    organization_id: int, patient_ids: Iterable[int]
) -> dict[int, list[ConsentState]]:
    """`consent_states` for many patients of one clinic in two queries (list pages)."""
    current = current_documents(organization_id)
    ids = list(patient_ids)
    newest: dict[int, dict[str, ConsentSignature]] = {pk: {} for pk in ids}
    for signature in (
        ConsentSignature.objects.filter(patient_id__in=ids)
        .select_related("document")
        .order_by("-document__version", "-signed_at", "-id")
    ):
        newest[signature.patient_id].setdefault(signature.document.kind, signature)
    return {
        pk: [
            ConsentState(kind=kind, current=current.get(kind), signed=signed.get(kind))
            for kind in Kind
        ]
        for pk, signed in newest.items()
    }


def consent_blocks_treatment(
    patient: Patient,
    *,
    treatment: str,
    states: Sequence[ConsentState] | None = None,
) -> str | None:
    """Why `treatment` ("ketamine" or "tms") may not start for lack of consent, or None.

    Each required form must be signed in its current version: publishing a new
    version asks every patient to sign again before their next treatment.
    """
    try:
        kinds = REQUIRED_CONSENTS[treatment]
    except KeyError:
        raise ValueError(
            f"Unknown treatment {treatment!r}: use 'ketamine' or 'tms'."
        ) from None
    by_kind = {
        state.kind: state
        for state in (consent_states(patient) if states is None else states)
    }
    problems = [
        f"{by_kind[kind].label}: {by_kind[kind].status}"
        for kind in kinds
        if not by_kind[kind].is_current
    ]
    if not problems:
        return None
    return "Consent missing or outdated — " + "; ".join(problems) + "."


def latest_decision(patient: Patient) -> EligibilityDecision | None:
    return (
        EligibilityDecision.objects.filter(patient=patient)
        .order_by("-signed_at", "-id")
        .first()
    )


def latest_decisions(patient_ids: Iterable[int]) -> dict[int, EligibilityDecision]:
    """Each patient's newest signed decision, in one query (list pages)."""
    newest: dict[int, EligibilityDecision] = {}
    for decision in EligibilityDecision.objects.filter(
        patient_id__in=list(patient_ids)
    ).order_by("-signed_at", "-id"):
        newest.setdefault(decision.patient_id, decision)
    return newest


def eligibility_blocks_treatment(patient: Patient) -> str | None:
    """Why treatment may not start for lack of an eligibility decision, or None.

    None only when the newest signed decision says eligible or eligible with
    conditions; a later decision always replaces an earlier one.
    """
    decision = latest_decision(patient)
    if decision is None:
        return (
            "No signed eligibility decision: a prescriber must review the intake first."
        )
    if decision.allows_treatment:
        return None
    if decision.outcome == EligibilityDecision.Outcome.NEEDS_CLEARANCE:
        provider = decision.clearance_provider_name or "another provider"
        return f"Eligibility needs clearance from {provider} before treatment."
    return "The eligibility decision is: not eligible."
