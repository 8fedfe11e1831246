"""The chart facts a letter may quote, read for one patient (values as text for `fields.fill`).

Response and remission are judged by the clinic's outcome definitions
(`measures.outcome_rules`): those in force when the letter is drafted for its quoted
values, and those in force at its signature for its chart, so a signed letter's PDF
draws the same lines every time it is made.
"""

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.infusions.models import AdverseEvent, InfusionSession
from neuroclinic.letters.models import Letter
from neuroclinic.measures import outcomes
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.outcome_rules import clinic_outcome_rules
from neuroclinic.measures.outcomes import OutcomeRules
from neuroclinic.measures.progress import trajectory_summary, treatment_events
from neuroclinic.patients.models import CareTeamProvider, Patient

GIVEN = (InfusionSession.Status.DISCHARGED, InfusionSession.Status.CLOSED)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


DEFAULTS = OutcomeRules()


def _clinic_rule(value: object, default: object, words: str) -> str:
    """The clinic's own rule after a yes or no, where it is not the cited default that
    the letter templates name ("a fall of 50% or more", "PHQ-9 of 4 or less")."""
    return "" if value == default else f" (by the clinic's rule: {words})"


def chart_values(
    patient: Patient, *, recipient: CareTeamProvider, prescriber: User
) -> dict[str, str]:
    sessions = list(
        InfusionSession.objects.filter(patient=patient, status__in=GIVEN).order_by(
            "service_date", "id"
        )
    )
    # Amended responses are replaced by their amendment (the newest version counts).
    responses = list(
        QuestionnaireResponse.objects.filter(
            patient=patient,
            instrument_code="phq9",
            total__isnull=False,
            amended_by__isnull=True,
        ).order_by("completed_at", "id")
    )
    values = {
        "patient_name": patient.legal_name,
        "patient_birth_date": patient.birth_date.isoformat(),
        "recipient_name": recipient.name,
        "recipient_practice": recipient.practice,
        "clinic_name": patient.organization.name,
        "prescriber_name": prescriber.display_name,
        "today": timezone.localdate().isoformat(),
        "sessions_completed": str(len(sessions)),
        "first_session_date": sessions[0].service_date.isoformat() if sessions else "",
        "last_session_date": sessions[-1].service_date.isoformat() if sessions else "",
    }
    events = AdverseEvent.objects.filter(session__in=sessions)
    values["adverse_events"] = "; ".join(str(e) for e in events) or "none recorded"
    if responses:
        rules = clinic_outcome_rules(patient.organization_id)
        baseline, latest = responses[0].total, responses[-1].total
        assert baseline is not None
        assert latest is not None
        values["phq9_baseline"] = str(baseline)
        values["phq9_latest"] = str(latest)
        if baseline > 0 and len(responses) > 1:
            values["phq9_change_percent"] = str(
                outcomes.response_change(baseline_total=baseline, current_total=latest)
            )
            values["response"] = _yes(
                rules.responds(baseline_total=baseline, current_total=latest)
            ) + _clinic_rule(
                rules.response_reduction_percent,
                DEFAULTS.response_reduction_percent,
                f"a fall of {rules.response_reduction_percent}% or more",
            )
        remission_max = rules.remission_max_for("phq9")
        values["remission"] = _yes(bool(rules.remits("phq9", latest))) + _clinic_rule(
            remission_max,
            DEFAULTS.remission_max_for("phq9"),
            f"PHQ-9 of {remission_max} or less",
        )
    return values


# Letters that report scores before and after carry the PHQ-9 trajectory chart.
CHART_KINDS = frozenset({"end_of_series", "tms_course", "booster"})


def letter_chart(letter: Letter) -> str:
    """The PHQ-9 trajectory as inline SVG for a letter that reports one, else "".

    Only what was charted up to the letter's signature (a draft: up to now) is
    drawn, so a signed letter's PDF shows the same chart every time it is made.
    """
    if letter.template.kind not in CHART_KINDS:
        return ""
    cutoff = letter.signed_at or timezone.now()
    responses = list(
        QuestionnaireResponse.objects.filter(
            patient_id=letter.patient_id,
            instrument_code="phq9",
            amended_by__isnull=True,
            total__isnull=False,
            completed_at__lte=cutoff,
        ).order_by("completed_at", "id")
    )
    if not responses:
        return ""
    cutoff_day = cutoff.date()
    events = [e for e in treatment_events(letter.patient) if e.on <= cutoff_day]
    rules = clinic_outcome_rules(letter.organization_id, as_of=cutoff)
    phq9 = trajectory_summary(INSTRUMENTS["phq9"], responses, events, rules)
    svg: str = phq9.get("svg", "")
    return svg
