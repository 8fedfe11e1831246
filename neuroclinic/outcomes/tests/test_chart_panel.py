"""The chart's outcomes panel: each episode's baseline, nadir, latest, change and status (issue 11 item 1)."""

from datetime import date

from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.outcomes.tests import factories as outcome_factories
from neuroclinic.patients.models import Patient


def _chart(client: Client, user: User, patient: Patient) -> str:
    response = login(client, user).get(f"/patients/{patient.uuid}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_chart_reads_the_episode_in_clinical_terms(
    client: Client, patient: Patient, prescriber: User, director: User, nurse: User
) -> None:
    outcome_factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=date(2026, 3, 2),
        scores=((-1, 20), (5, 9), (9, 2), (13, 4)),
    )

    body = _chart(client, prescriber, patient)

    assert 'id="outcomes-h"' in body
    assert '20<br><span class="muted">2026-03-01</span>' in body  # baseline
    assert '2<br><span class="muted">2026-03-11</span>' in body  # nadir
    assert '4<br><span class="muted">2026-03-15</span>' in body  # latest
    assert "-80.0&nbsp;%" in body
    # the label names the clinic's threshold (the default: PHQ-9 total 4 or less)
    assert "remission (total 4 or less)<br>" in body
    assert "first response 2026-03-07" in body
    assert "Last infusion 2026-03-12" in body


def test_without_a_score_before_the_first_infusion_the_chart_says_it_cannot_judge(
    client: Client, patient: Patient, prescriber: User, director: User, nurse: User
) -> None:
    outcome_factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=date(2026, 3, 2),
        scores=((5, 9), (9, 2)),
    )

    body = _chart(client, prescriber, patient)

    assert "no baseline: response cannot be judged" in body
    assert "remission" not in body.split('id="outcomes-h"')[1].split("</section>")[0]


def test_roles_without_the_clinical_chart_see_no_outcomes(
    client: Client,
    patient: Patient,
    prescriber: User,
    director: User,
    nurse: User,
    front_desk: User,
) -> None:
    outcome_factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=date(2026, 3, 2),
        scores=((-1, 20), (9, 2)),
    )

    body = _chart(client, front_desk, patient)

    assert 'id="outcomes-h"' not in body
    assert "first response" not in body
