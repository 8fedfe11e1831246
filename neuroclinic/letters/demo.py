"""Demo letters: an end-of-series letter to the referring provider for each completed series,
signed by the demo prescriber and recorded as faxed or printed. Synthetic people only."""

from django.db.models import Count, Q

from neuroclinic.clinics.demo import DEMO_PASSWORD, DemoContext
from neuroclinic.infusions.models import InfusionSession
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
