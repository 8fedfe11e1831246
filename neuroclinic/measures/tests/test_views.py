"""Staff pages, the portal and the clinic tablet, through the whole Django stack."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client

from conftest import EVERYONE, assert_sent_to_sign_in, expected_status
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.actions.alerts import raise_safety_alert
from neuroclinic.measures.actions.portal_links import (
    create_portal_link,
    submit_from_link,
)
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import PortalLink, QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.patients.models import Patient


@pytest.fixture
def treated(patient: Patient, prescriber: User) -> Patient:
    patient.prescriber = prescriber
    patient.save(update_fields=["prescriber"])
    return patient


def _post_phq9(client: Client, patient: Patient, answers: dict[str, object]) -> object:
    return client.post(
        f"/measures/patients/{patient.uuid}/new/phq9/",
        {k: str(v) for k, v in answers.items()},
    )


def test_a_nurse_enters_a_phq9_and_sees_it_scored(
    as_persona: Callable[[str], Client], treated: Patient
) -> None:
    client = as_persona("nurse")

    response = _post_phq9(client, treated, phq9(11))
    page = client.get(f"/measures/patients/{treated.uuid}/").content.decode()

    assert response.status_code == 302  # type: ignore[attr-defined]
    assert QuestionnaireResponse.objects.get().total == 11
    assert "11 (moderate)" in page
    assert "<svg" in page
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.TRAJECTORY_VIEWED).count()
        == 1
    )


@pytest.mark.parametrize(
    ("next_", "lands_on"),
    [
        ("/infusions/sessions/0b6c3f0e-1111-4222-8333-944455556666/", "next"),
        ("https://evil.example/", "measures"),
        ("//evil.example/", "measures"),
    ],
)
def test_entered_from_the_infusion_checklist_it_returns_there(
    as_persona: Callable[[str], Client], treated: Patient, next_: str, lands_on: str
) -> None:
    """Issue 18 item 4: "Enter today's PHQ-9" on the infusion checklist comes back to the
    session (a path on this site only); otherwise to the patient's measures."""
    client = as_persona("nurse")
    url = f"/measures/patients/{treated.uuid}/new/phq9/"

    form = client.get(url, {"next": next_}).content.decode()
    response = client.post(
        f"{url}?next={next_}", {k: str(v) for k, v in phq9(7).items()}
    )

    measures = f"/measures/patients/{treated.uuid}/"
    expected = next_ if lands_on == "next" else measures
    assert response.status_code == 302
    assert response["Location"] == expected
    assert f'href="{expected}">Cancel</a>' in form
    assert QuestionnaireResponse.objects.get().total == 7


def test_a_missing_answer_is_shown_on_its_item_and_nothing_is_stored(
    as_persona: Callable[[str], Client], treated: Patient
) -> None:
    answers = phq9(11)
    del answers["phq9-4"]
    answers["phq9-2"] = 9  # not an option

    response = _post_phq9(as_persona("nurse"), treated, answers)

    body = response.content.decode()  # type: ignore[attr-defined]
    assert 'id="err-phq9-4"' in body
    assert 'id="err-phq9-2"' in body
    assert QuestionnaireResponse.objects.exists() is False


def test_an_item_9_answer_puts_the_alert_on_the_chart(
    as_persona: Callable[[str], Client], treated: Patient
) -> None:
    client = as_persona("nurse")

    _post_phq9(client, treated, phq9(5, item9=1))
    chart = client.get(f"/patients/{treated.uuid}/").content.decode()

    assert "Safety alert: PHQ-9 item 9 positive" in chart


@pytest.mark.parametrize(
    ("persona", "status"),
    [("nurse", 403), ("tms", 403), ("prescriber", 302), ("director", 302)],
)
def test_only_prescribers_acknowledge_alerts(
    as_persona: Callable[[str], Client],
    treated: Patient,
    nurse: User,
    persona: str,
    status: int,
) -> None:
    alert = record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(5, item9=1),
        source=QuestionnaireResponse.Source.STAFF,
        by=nurse,
    ).alerts[0]
    form = {
        "ideation": "Passive",
        "plan": "None",
        "intent": "None",
        "behaviors": "None",
        "protective_factors": "Family",
        "risk_level": "low",
        "disposition": "safety_plan",
        "disposition_note": "",
    }

    response = as_persona(persona).post(f"/measures/alerts/{alert.uuid}/", form)

    assert response.status_code == status
    alert.refresh_from_db()
    assert alert.is_open is (status == 403)


def test_an_incomplete_assessment_shows_the_missing_field(
    as_persona: Callable[[str], Client], treated: Patient, nurse: User
) -> None:
    alert = record_response(
        treated,
        instrument_code="phq9",
        answers=phq9(5, item9=1),
        source=QuestionnaireResponse.Source.STAFF,
        by=nurse,
    ).alerts[0]

    response = as_persona("prescriber").post(
        f"/measures/alerts/{alert.uuid}/",
        {"risk_level": "low", "disposition": "safety_plan"},
    )

    assert response.status_code == 200
    assert "Document the risk assessment" in response.content.decode()
    alert.refresh_from_db()
    assert alert.is_open


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (
            "/measures/patients/{uuid}/",
            {"director", "prescriber", "nurse", "tms", "auditor"},
        ),
        (
            "/measures/patients/{uuid}/new/phq9/",
            {"director", "prescriber", "nurse", "tms"},
        ),
        ("/measures/alerts/", {"director", "prescriber", "nurse", "tms", "auditor"}),
        (
            "/measures/worklist/",
            {"director", "prescriber", "nurse", "front_desk", "tms"},
        ),
    ],
)
@pytest.mark.parametrize("persona", EVERYONE)
def test_who_may_open_measures_pages(
    as_persona: Callable[[str], Client],
    treated: Patient,
    path: str,
    allowed: set[str],
    persona: str,
) -> None:
    response = as_persona(persona).get(path.format(uuid=treated.uuid))

    # The outsider, a nurse at another clinic: their own (empty) lists, never our patient.
    outsider = 404 if "{uuid}" in path else 200
    assert response.status_code == expected_status(persona, allowed, outsider=outsider)
    if persona == "anonymous":
        assert_sent_to_sign_in(response)


def test_the_outsider_cannot_open_our_alert(
    as_persona: Callable[[str], Client], treated: Patient
) -> None:
    alert = raise_safety_alert(treated, reason=SafetyAlert.Reason.CLINICIAN, detail="x")

    assert (
        as_persona("outsider").get(f"/measures/alerts/{alert.uuid}/").status_code == 404
    )


# The patient's side ---------------------------------------------------------------


@pytest.fixture
def link_token(treated: Patient, nurse: User) -> str:
    _, token = create_portal_link(
        treated,
        instrument_codes=["phq9", "gad7"],
        channel=PortalLink.Channel.EMAIL,
        by=nurse,
    )
    return token


def test_a_patient_answers_by_link_without_signing_in(
    client: Client, link_token: str, treated: Patient
) -> None:
    first = client.get(f"/q/{link_token}/")
    sent = client.post(
        f"/q/{link_token}/",
        {"instrument": "phq9", **{k: str(v) for k, v in phq9(7).items()}},
    )

    assert first.status_code == 200
    assert (
        "Patient Health Questionnaire" in first.content.decode()
        or "PHQ-9" in first.content.decode()
    )
    assert "988" in first.content.decode()  # the crisis line on every portal page
    assert sent.status_code == 200
    assert "GAD-7" in sent.content.decode()  # the next questionnaire
    assert (
        QuestionnaireResponse.objects.get().source
        == QuestionnaireResponse.Source.PORTAL
    )


def test_an_item_9_answer_shows_crisis_lines_at_once(
    client: Client, link_token: str, treated: Patient
) -> None:
    response = client.post(
        f"/q/{link_token}/",
        {"instrument": "phq9", **{k: str(v) for k, v in phq9(9, item9=3).items()}},
    )

    body = response.content.decode()
    assert 'Call or text <a href="tel:988">988</a>' in body
    assert "911" in body
    assert "press 1" in body
    assert treated.organization.crisis_message in body
    assert SafetyAlert.objects.get().patient == treated


def test_checking_item_9_as_it_is_answered_returns_the_crisis_box(
    client: Client, link_token: str
) -> None:
    response = client.post(
        f"/q/{link_token}/check/",
        {"instrument": "phq9", "item": "phq9-9", "phq9-9": "1"},
        headers={"HX-Request": "true"},
    )
    calm = client.post(
        f"/q/{link_token}/check/",
        {"instrument": "phq9", "item": "phq9-9", "phq9-9": "0"},
        headers={"HX-Request": "true"},
    )

    assert "988" in response.content.decode()
    assert calm.content == b""
    assert SafetyAlert.objects.count() == 1


@pytest.mark.parametrize("kind", ["used", "expired", "forged"])
def test_an_unusable_link_says_why_and_reveals_nothing(
    client: Client, treated: Patient, nurse: User, kind: str
) -> None:
    lifetime = timedelta(seconds=-1) if kind == "expired" else timedelta(hours=1)
    link, token = create_portal_link(
        treated,
        instrument_codes=["phq9"],
        channel=PortalLink.Channel.EMAIL,
        by=nurse,
        lifetime=lifetime,
    )
    if kind == "used":
        submit_from_link(
            link, instrument_code="phq9", answers=phq9(3), submission_key=None
        )
    if kind == "forged":
        token = token[:-4] + "AAAA"

    response = client.get(f"/q/{token}/")

    body = response.content.decode()
    assert response.status_code == 410
    assert {"used": "already used", "expired": "expired", "forged": "not valid"}[
        kind
    ] in body
    assert treated.given_name not in body
    assert treated.family_name not in body
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PORTAL_LINK_REFUSED).count()
        == 1
    )


def test_a_double_submit_from_the_portal_stores_one_response(
    client: Client, link_token: str
) -> None:
    form = {
        "instrument": "phq9",
        "submission_key": "5f0f4a4c-8a3e-4b59-9d64-0ad0c1f0a001",
        **{k: str(v) for k, v in phq9(4).items()},
    }

    client.post(f"/q/{link_token}/", form)
    client.post(f"/q/{link_token}/", form)

    assert QuestionnaireResponse.objects.count() == 1


def test_handing_the_tablet_locks_staff_pages_and_shows_only_the_questionnaire(
    as_persona: Callable[[str], Client], treated: Patient
) -> None:
    client = as_persona("front_desk")

    response = client.post(
        f"/measures/patients/{treated.uuid}/tablet/", {"instruments": ["phq9"]}
    )
    kiosk = client.get(response["Location"])
    staff_page = client.get("/patients/")

    assert response["Location"].startswith("/kiosk/")
    assert kiosk.status_code == 200
    assert 'class="topbar"' not in kiosk.content.decode()
    assert staff_page.status_code == 302
    assert staff_page["Location"] == "/accounts/hand-back/"  # locked, not signed out
    assert PortalLink.objects.get().channel == PortalLink.Channel.KIOSK
