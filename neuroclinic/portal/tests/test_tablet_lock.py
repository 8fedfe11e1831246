"""The tablet in the patient's hands (issue 18 item 4): locked to the patient's pages,
handed back with the nurse's authenticator code, never a full sign-in."""

import pytest
from django.conf import settings
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.accounts.tablet_lock import LOCK_KEY
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.tests.factories import publish_all
from neuroclinic.patients.models import Patient
from neuroclinic.portal.session import PORTAL_SESSION

pytestmark = pytest.mark.django_db

HAND_BACK = "/accounts/hand-back/"
CAME_FROM = "/patients/"


def code_now(user: User) -> str:
    device: Authenticator = Authenticator.objects.get(user=user, confirmed=True)
    return device.current_code()


def wrong_code(user: User) -> str:
    right = code_now(user)
    return next(c for c in ("000000", "111111", "222222") if c != right)


@pytest.fixture
def tablet(client: Client, nurse: User, patient: Patient) -> Client:
    """The nurse hands the tablet over for a PHQ-9 from the patient's chart."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    login(client, nurse)
    response = client.post(
        f"/measures/patients/{patient.uuid}/tablet/",
        {"instruments": ["phq9"], "next": CAME_FROM},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    client.kiosk_url = response["Location"]  # type: ignore[attr-defined]
    return client


def test_the_questionnaire_opens_while_every_staff_page_and_the_api_are_held(
    tablet: Client,
) -> None:
    kiosk = tablet.get(tablet.kiosk_url)  # type: ignore[attr-defined]

    assert kiosk.status_code == 200
    assert 'class="topbar"' not in kiosk.content.decode()
    assert "Finished? Hand the tablet back" in kiosk.content.decode()
    for page in ("/staff/", "/patients/", "/ledger/", "/portal/", "/audit/"):
        assert tablet.get(page)["Location"] == HAND_BACK, page
    api = tablet.get("/api/patients")
    assert api.status_code == 403
    assert api["Content-Type"] == "application/problem+json"
    htmx = tablet.get("/patients/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == HAND_BACK
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.TABLET_LOCKED).count() == 1
    )


def test_the_nurses_code_hands_it_back_to_where_they_were(
    tablet: Client, nurse: User
) -> None:
    page = tablet.get(HAND_BACK)
    assert page.status_code == 200
    assert nurse.display_name in page.content.decode()
    assert 'class="topbar"' not in page.content.decode()

    response = tablet.post(HAND_BACK, {"code": code_now(nurse)})

    assert response["Location"] == CAME_FROM
    assert tablet.get("/patients/").status_code == 200  # still signed in
    assert LOCK_KEY not in tablet.session
    assert PORTAL_SESSION not in tablet.session
    unlocked = AuditEvent.objects.get(action=AuditEvent.Action.TABLET_UNLOCKED)
    assert unlocked.actor == nurse
    assert unlocked.data == {"purpose": "questionnaire"}


def test_a_wrong_code_keeps_it_locked_and_counts_as_a_failed_sign_in(
    tablet: Client, nurse: User
) -> None:
    response = tablet.post(HAND_BACK, {"code": wrong_code(nurse)})

    assert response.status_code == 422
    assert "not right" in response.content.decode()
    assert tablet.get("/patients/")["Location"] == HAND_BACK
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.data == {"stage": "tablet_hand_back"}
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.TABLET_UNLOCKED
    ).exists()


@pytest.mark.parametrize("typed", ["", "12345", "abcdef", "1234567"])
def test_a_malformed_code_is_a_field_error_and_counts_nothing(
    tablet: Client, typed: str
) -> None:
    response = tablet.post(HAND_BACK, {"code": typed})

    assert response.status_code == 422
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.SIGN_IN_FAILED
    ).exists()
    assert tablet.get("/patients/")["Location"] == HAND_BACK


def test_wrong_codes_up_to_the_lockout_sign_the_tablet_out(
    tablet: Client, nurse: User
) -> None:
    for _ in range(settings.LOCKOUT_THRESHOLD):
        response = tablet.post(HAND_BACK, {"code": wrong_code(nurse)})

    assert response["Location"].startswith("/accounts/sign-in/")
    assert tablet.get("/patients/")["Location"].startswith("/accounts/sign-in/")
    nurse.refresh_from_db()
    assert nurse.is_locked()


def test_a_return_address_off_the_site_is_not_followed(
    client: Client, nurse: User, patient: Patient
) -> None:
    login(client, nurse)
    client.post(
        f"/measures/patients/{patient.uuid}/tablet/",
        {"instruments": ["phq9"], "next": "https://evil.example/steal"},
    )

    response = client.post(HAND_BACK, {"code": code_now(nurse)})

    assert response["Location"] == f"/measures/patients/{patient.uuid}/"


def test_the_hand_back_page_without_a_lock_goes_home(
    client: Client, nurse: User
) -> None:
    login(client, nurse)
    assert client.get(HAND_BACK)["Location"] == "/staff/"


def test_consent_on_the_tablet_keeps_the_nurse_signed_in_and_comes_back(
    client: Client, nurse: User, patient: Patient, organization: Organization
) -> None:
    publish_all(organization)
    login(client, nurse)
    came_from = f"/patients/{patient.uuid}/"
    response = client.post(
        f"/intake/patients/{patient.uuid}/consent-tablet/", {"next": came_from}
    )
    assert client.post(response["Location"])["Location"] == "/portal/consents/"
    assert client.get("/portal/consents/").status_code == 200
    assert client.get("/staff/")["Location"] == HAND_BACK

    done = client.post("/portal/sign-out/")

    assert done["Location"] == HAND_BACK
    assert client.post(HAND_BACK, {"code": code_now(nurse)})["Location"] == came_from
    assert client.get("/staff/").status_code == 200
    assert client.get("/portal/consents/").status_code == 401  # the patient is gone
