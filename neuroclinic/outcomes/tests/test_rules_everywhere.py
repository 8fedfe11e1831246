"""Issue 11: every app judges response and remission by the clinic's outcome definitions
(measures' trajectories and their reference lines, letters' chart values and chart, the
TMS course summary, the portal's plain words), and another clinic is unaffected."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import TEST_PASSWORD, make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.clinics.models import Organization
from neuroclinic.letters import chart as letter_chart
from neuroclinic.letters.actions import letters
from neuroclinic.letters.models import Letter
from neuroclinic.measures.outcome_rules import clinic_outcome_rules
from neuroclinic.measures.outcomes import OutcomeRules
from neuroclinic.measures.progress import trajectories_for
from neuroclinic.outcomes.actions import boosters
from neuroclinic.outcomes.summary import PLAIN_WORDS, Status, plain_words, share_words
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient
from neuroclinic.portal.tests.test_portal import portal
from neuroclinic.tms import summary as tms_summary
from neuroclinic.treatment.models import TreatmentPlan

START = date(2026, 3, 2)
REBUILD_TASK = "neuroclinic.outcomes.tasks.rebuild_outcome_summaries"

# (the director's change, the PHQ-9 course's latest total from a baseline of 20,
#  response?, remission?) as every app must judge it
CASES: list[tuple[dict[str, int], int, bool, bool]] = [
    ({}, 11, False, False),  # 45 % below baseline: no response by 50 %
    ({"response_reduction_percent": 40}, 11, True, False),
    ({"remission_max_phq9": 11}, 11, False, True),
    ({}, 6, True, False),  # 70 % below, 6 > 4
    ({"response_reduction_percent": 75}, 6, False, False),
    ({"remission_max_phq9": 6}, 6, True, True),
]


def _patient(organization: Organization, by: User, name: str) -> Patient:
    return patient_actions.register_patient(
        organization,
        by=by,
        family_name=name,
        given_name="Demo",
        birth_date=date(1980, 5, 17),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )


def phq9_course(organization: Organization, name: str, latest: int) -> TreatmentPlan:
    staff = {
        role: make_staff(organization, f"{name.lower()}{i}", role)
        for i, role in enumerate((Role.PRESCRIBER, Role.MEDICAL_DIRECTOR, Role.NURSE))
    }
    patient = _patient(organization, staff[Role.PRESCRIBER], name)
    return factories.course(
        patient,
        prescriber=staff[Role.PRESCRIBER],
        director=staff[Role.MEDICAL_DIRECTOR],
        nurse=staff[Role.NURSE],
        start=START,
        scores=((-1, 20), (11, latest), (25, latest)),
    )


def _everywhere(plan: TreatmentPlan, latest: int) -> dict[str, Any]:
    """Response and remission as each app reports them for the plan's patient."""
    patient = plan.patient
    organization_id = patient.organization_id
    (trajectory,) = trajectories_for(patient)
    values = letter_chart.chart_values(
        patient,
        recipient=CareTeamProvider(name="Dr Test", practice="Test"),
        prescriber=plan.created_by,
    )
    course = tms_summary.summarize(
        planned_days=[START + timedelta(days=d) for d in range(21)],
        sessions=[],
        phq9=[
            tms_summary.Score(START - timedelta(days=1), 20),
            tms_summary.Score(START + timedelta(days=25), latest),
        ],
        today=START + timedelta(days=26),
        rules=clinic_outcome_rules(organization_id),
    )
    return {
        "measures": (trajectory["response"], trajectory["remission"]),
        "letter": (
            values["response"].split(" ")[0] == "yes",
            values["remission"].split(" ")[0] == "yes",
        ),
        "tms": (course.response, course.remission),
        "svg": trajectory["svg"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "latest", "response", "remission"), CASES)
def test_a_changed_rule_changes_every_apps_judgement_and_not_another_clinics(
    organization: Organization,
    other_organization: Organization,
    director: User,
    change: dict[str, int],
    latest: int,
    response: bool,
    remission: bool,
) -> None:
    ours = phq9_course(organization, "Regelholm", latest)
    theirs = phq9_course(other_organization, "Anderholm", latest)
    defaults = OutcomeRules()
    default_judgement = (
        defaults.responds(baseline_total=20, current_total=latest),
        bool(defaults.remits("phq9", latest)),
    )
    if change:
        boosters.change_booster_rules(
            organization, values=change, change_note="Clinic's own", by=director
        )
    rules = clinic_outcome_rules(organization.pk)
    seen = _everywhere(ours, latest)
    for app in ("measures", "letter", "tms"):
        assert seen[app] == (response, remission), app
    # The chart's reference lines are drawn where the clinic's rules put them.
    response_at = 20 * (100 - rules.response_reduction_percent) / 100
    response_label = f"{response_at:g} ({rules.response_reduction_percent}% below"
    assert response_label in seen["svg"]
    assert f"Remission \u2264 {rules.remission_max['phq9']}</text>" in seen["svg"]
    # The other clinic still judges by the defaults, lines and all.
    other = _everywhere(theirs, latest)
    for app in ("measures", "letter", "tms"):
        assert other[app] == default_judgement, app
    assert "10 (50% below baseline)" in other["svg"]
    assert "Remission \u2264 4</text>" in other["svg"]


@pytest.mark.django_db
def test_a_letter_names_the_clinics_rule_where_it_is_not_the_templates(
    organization: Organization, director: User
) -> None:
    plan = phq9_course(organization, "Briefholm", 11)
    recipient = CareTeamProvider(name="Dr Test", practice="Test")
    values = letter_chart.chart_values(
        plan.patient, recipient=recipient, prescriber=plan.created_by
    )
    assert (values["response"], values["remission"]) == ("no", "no")
    boosters.change_booster_rules(
        organization,
        values={"response_reduction_percent": 40, "remission_max_phq9": 11},
        change_note="Ours",
        by=director,
    )
    values = letter_chart.chart_values(
        plan.patient, recipient=recipient, prescriber=plan.created_by
    )
    assert values["response"] == "yes (by the clinic's rule: a fall of 40% or more)"
    assert values["remission"] == "yes (by the clinic's rule: PHQ-9 of 11 or less)"


@pytest.mark.django_db
def test_a_signed_letters_chart_keeps_the_rules_of_its_signature(
    organization: Organization, director: User, prescriber: User, front_desk: User
) -> None:
    plan = phq9_course(organization, "Signholm", 11)
    referrer = patient_actions.add_care_team_provider(
        plan.patient,
        role=CareTeamProvider.Role.REFERRING,
        name="Dr Rowan Referrer (test)",
        practice="Test Psychiatry",
        fax="555-0199",
        by=front_desk,
    )
    letter = letters.draft_letter(
        plan.patient, kind="end_of_series", recipient=referrer, by=prescriber
    )
    letter = letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)
    signed = letter_chart.letter_chart(letter)
    assert "Remission \u2264 4</text>" in signed
    boosters.change_booster_rules(
        organization,
        values={"remission_max_phq9": 6},
        change_note="Later",
        by=director,
    )
    assert letter_chart.letter_chart(Letter.objects.get(pk=letter.pk)) == signed
    draft = letters.draft_letter(
        plan.patient, kind="end_of_series", recipient=referrer, by=prescriber
    )
    assert "Remission \u2264 6</text>" in letter_chart.letter_chart(draft)


# The portal's plain words: (response %, partial %) -> the words for three statuses.
WORDS = [
    (
        50,
        25,
        "Your score has fallen by half or more from where you started.",
        "Your score has fallen by a quarter to a half from where you started.",
        "Your scores have not yet fallen by a quarter from where you started.",
    ),
    (
        40,
        25,
        "Your score has fallen by 40 % or more from where you started.",
        "Your score has fallen by a quarter to 40 % from where you started.",
        "Your scores have not yet fallen by a quarter from where you started.",
    ),
    (
        60,
        30,
        "Your score has fallen by 60 % or more from where you started.",
        "Your score has fallen by 30 % to 60 % from where you started.",
        "Your scores have not yet fallen by 30 % from where you started.",
    ),
    (
        75,
        50,
        "Your score has fallen by three quarters or more from where you started.",
        "Your score has fallen by half to three quarters from where you started.",
        "Your scores have not yet fallen by half from where you started.",
    ),
]


@pytest.mark.parametrize(("response", "partial", "full", "part", "none"), WORDS)
def test_plain_words_name_the_clinics_percentages(
    response: int, partial: int, full: str, part: str, none: str
) -> None:
    rules = OutcomeRules(
        response_reduction_percent=response, partial_reduction_percent=partial
    )
    assert plain_words(Status.RESPONSE, rules) == full
    assert plain_words(Status.PARTIAL, rules) == part
    assert plain_words(Status.NO_RESPONSE, rules) == none
    # Statuses without a percentage read the same under any rules.
    for status in (Status.REMISSION, Status.RELAPSE, Status.NO_BASELINE):
        assert plain_words(status, rules) == PLAIN_WORDS[status]


def test_plain_words_under_the_defaults_are_unchanged() -> None:
    assert PLAIN_WORDS[Status.RESPONSE] == (
        "Your score has fallen by half or more from where you started."
    )
    assert [share_words(p) for p in (25, 50, 75, 40, 100)] == [
        "a quarter",
        "half",
        "three quarters",
        "40 %",
        "100 %",
    ]


@pytest.mark.django_db
def test_the_portal_says_the_clinics_percentage(
    client: Client, organization: Organization, director: User, front_desk: User
) -> None:
    plan = phq9_course(organization, "Portalholm", 11)  # 45 % below baseline
    page = portal(client, plan.patient, front_desk)
    body = page.get("/portal/progress/").content.decode()
    assert PLAIN_WORDS[Status.PARTIAL] in body
    boosters.change_booster_rules(
        organization,
        values={"response_reduction_percent": 40},
        change_note="Ours",
        by=director,
    )
    body = page.get("/portal/progress/").content.decode()
    assert "Your score has fallen by 40 % or more from where you started." in body
    assert "fallen by half or more" not in body
    assert "Response \u2264 12 (40% below baseline)" in body  # the chart's line


@pytest.mark.django_db
def test_the_rules_in_force_at_a_moment(
    organization: Organization, director: User
) -> None:
    before = timezone.now()
    boosters.change_booster_rules(
        organization, values={"remission_max_phq9": 6}, change_note="v1", by=director
    )
    assert clinic_outcome_rules(organization.pk, as_of=before) == OutcomeRules()
    assert clinic_outcome_rules(organization.pk).remission_max["phq9"] == 6
