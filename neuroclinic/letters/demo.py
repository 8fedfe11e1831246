"""Demo letters: an end-of-series letter to the referring provider for each completed series,
signed by the demo prescriber and recorded as faxed or printed, and the clearance request of
each decision that needs clearance, left as a draft for the prescriber. Synthetic people only."""

from django.db.models import Count, Q

from neuroclinic.clinics.demo import DEMO_PASSWORD, DemoContext
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.intake.actions import consents
from neuroclinic.intake.demo import signature_png
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
)
from neuroclinic.letters.actions import letters
from neuroclinic.letters.errors import LettersError
from neuroclinic.patients.models import CareTeamProvider, Patient

SERIES_LENGTH = 6


def load(context: DemoContext) -> None:
    prescriber = context.staff["prescriber"]
    given = (InfusionSession.Status.DISCHARGED, InfusionSession.Status.CLOSED)
    completed = (
        Patient.objects.filter(organization=context.organization)
        .annotate(
            given=Count(
                "infusion_sessions", filter=Q(infusion_sessions__status__in=given)
            )
        )
        .filter(given__gte=SERIES_LENGTH)
    )
    for patient in completed.order_by("id"):
        referrer = CareTeamProvider.objects.filter(
            patient=patient, role=CareTeamProvider.Role.REFERRING
        ).first()
        if referrer is None:
            continue
        _communication_consent(patient)
        letter = letters.draft_letter(
            patient, kind="end_of_series", recipient=referrer, by=prescriber
        )
        letters.sign_letter(letter, password=DEMO_PASSWORD, by=prescriber)
        for channel in ("fax", "print"):
            try:
                letters.record_send(letter, channel=channel, by=prescriber)
                break
            except LettersError:
                continue
    for decision in EligibilityDecision.objects.filter(
        organization=context.organization,
        outcome=EligibilityDecision.Outcome.NEEDS_CLEARANCE,
    ).select_related("patient"):
        letters.request_clearance(decision, by=decision.decided_by)


def _communication_consent(patient: Patient) -> None:
    """A letter leaves only with the communication consent signed: the demo patient signs it."""
    if ConsentSignature.objects.filter(
        patient=patient, document__kind=ConsentDocument.Kind.COMMUNICATION
    ).exists():
        return
    document = (
        ConsentDocument.objects.filter(
            organization=patient.organization,
            kind=ConsentDocument.Kind.COMMUNICATION,
        )
        .order_by("-version")
        .first()
    )
    if document is None:
        return
    consents.sign_consent(
        patient,
        document,
        typed_name=patient.legal_name,
        signature_png=signature_png(patient.pk),
        ip_address="127.0.0.1",
        channel=ConsentSignature.Channel.PORTAL,
    )
