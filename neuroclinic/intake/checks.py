"""What the infusion and TMS checklists ask of intake before treatment may start.

Each function returns why treatment may not start, or None. They read only;
the checklist shows the reason and refuses "ready to treat" (DESIGN.md
section 5, "Hard stops before an infusion starts: consent current").
"""

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
    current = current_documents(patient.organization_id)
    newest: dict[str, ConsentSignature] = {}
    for signature in (
        ConsentSignature.objects.filter(patient=patient)
        .select_related("document")
        .order_by("-document__version", "-signed_at", "-id")
    ):
        newest.setdefault(signature.document.kind, signature)
    return [
        ConsentState(kind=kind, current=current.get(kind), signed=newest.get(kind))
        for kind in Kind
    ]


def consent_blocks_treatment(patient: Patient, *, treatment: str) -> str | None:
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
    states = {state.kind: state for state in consent_states(patient)}
    problems = [
        f"{states[kind].label}: {states[kind].status}"
        for kind in kinds
        if not states[kind].is_current
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
