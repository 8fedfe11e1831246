"""Issue 18, item 4, in a real browser: the tablet in the patient's hands.

A patient is checked in for an infusion with two hard stops the patient clears themself:
today's PHQ-9 is not done and the ketamine consent signed is not the current version. From the infusion
screen's checklist the nurse hands the tablet over for each. While it is with the patient
the tablet shows only the questionnaire (or the consent pages): no staff menu, and the
infusion screen and the API are refused to it. When the patient is done, the nurse's
authenticator code, not the whole sign-in, returns the tablet to the infusion screen with
the nurse still signed in, and the hard stop the patient cleared is met. Every page the
tablet loads is recorded: the sign-in page is never among them after the nurse's first
sign-in.
"""

import json
import re

import pytest
from playwright.sync_api import Frame, Page, expect

from tests.browser.conftest import LiveClinic
from tests.browser.test_infusion_day import (
    check_in,
    fresh_code,
    item,
    open_chart,
    sign_in,
)
from tests.browser.test_intake_journey import draw_signature

pytestmark = pytest.mark.browser

# A patient ready for an infusion as the demo makes one (`scheduling.demo.make_ready_patient`:
# eligible, consented, a plan, a signed induction order), whose ketamine consent is then
# the clinic's earlier version, as for a patient who signed before the demo clinic revised
# it: the current version is theirs to sign on the tablet. No PHQ-9 today.
OUTDATED_CONSENT_PATIENT = """
import json
import random
from datetime import date
from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.demo import DemoContext
from neuroclinic.clinics.models import Room
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.intake.models import ConsentDocument, ConsentSignature
from neuroclinic.scheduling.demo import make_ready_patient
staff = {u.username: u for u in User.objects.filter(username__in=["frontdesk", "prescriber", "director"])}
context = DemoContext(organization=staff["frontdesk"].organization, staff=staff,
                      patients=[], rng=random.Random(1804))
patient = make_ready_patient(context, family_name="Tabletta", given_name="Morgan",
                             birth_date=date(1981, 8, 8), phone="555-0196")
assert patient is not None, "the demo's protocols or consent forms are missing"
versions = list(ConsentDocument.objects.filter(organization=patient.organization,
                                               kind="ketamine").order_by("version"))
assert len(versions) >= 2, "the demo has one version of the ketamine consent"
unguarded_update(ConsentSignature.objects.filter(patient=patient, document=versions[-1]),
                 document=versions[-2])
# A room no other journey left a patient in.
busy = set(InfusionSession.objects.filter(status__in=InfusionSession.OPEN_STATUSES)
           .values_list("room_id", flat=True))
room = next(r for r in Room.objects.filter(kind=Room.Kind.INFUSION, location__organization=patient.organization)
            .select_related("location").order_by("location__name", "name") if r.pk not in busy)
print(json.dumps({"mrn": patient.mrn, "name": patient.legal_name,
                  "room": f"{room.location.name} · {room.name}"}))
"""

HAND_BACK = "/accounts/hand-back/"
SIGN_IN = "/accounts/sign-in/"


def assert_locked(page: Page, clinic: LiveClinic, session_url: str) -> None:
    """The tablet, in the patient's hands, shows no staff menu and is refused the
    infusion screen (sent to the hand-back page) and the API."""
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_role("searchbox", name="Find a patient")).to_have_count(0)
    screen = page.request.get(session_url, max_redirects=0)
    assert screen.status == 302, screen.status
    assert screen.headers["location"] == HAND_BACK
    api = page.request.get(clinic.url + "/api/patients")
    assert api.status == 403, api.status


def hand_back(page: Page, clinic: LiveClinic, session_url: str) -> None:
    """The patient taps "Finished"; the nurse types the code showing now, nothing else."""
    page.get_by_role("button", name="Finished? Hand the tablet back").click()
    expect(page).to_have_url(clinic.url + HAND_BACK)
    expect(page.get_by_role("heading", name="For Noah Nursewell")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    page.get_by_label("Your authenticator code").fill(fresh_code(clinic, "nurse"))
    page.get_by_role("button", name="Return to my screen").click()
    expect(page).to_have_url(session_url)
    # Still signed in: the staff menu and the infusion screen's checklist are back.
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("heading", name="1. Checklist")).to_be_visible()


def test_the_tablet_goes_to_the_patient_and_back_without_a_full_sign_in(
    page: Page, live_clinic: LiveClinic
) -> None:
    patient = json.loads(
        live_clinic.manage("shell", "-c", OUTDATED_CONSENT_PATIENT).splitlines()[-1]
    )
    sign_in(page, live_clinic, "nurse")
    loaded: list[str] = []

    def on_navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            loaded.append(frame.url)

    page.on("framenavigated", on_navigated)

    open_chart(page, patient["mrn"])
    check_in(page, patient["room"])
    session_url = page.url
    phq9 = item(page, "Today's pre-infusion PHQ-9")
    consent = item(page, "Consent current")
    expect(phq9).to_have_class(re.compile(r"\bstop\b"))
    expect(consent).to_have_class(re.compile(r"\bstop\b"))

    # -- today's PHQ-9, on the tablet in the patient's hands ----------------------------
    phq9.get_by_role("button", name="Hand the tablet to the patient").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    assert_locked(page, live_clinic, session_url)
    items = page.locator("fieldset.q-item")
    for index in range(8):
        items.nth(index).get_by_label("Several days", exact=True).check()
    items.nth(8).get_by_label("Not at all", exact=True).check()
    items.nth(9).get_by_label("Somewhat difficult", exact=True).check()
    page.wait_for_load_state("networkidle")  # item 9's crisis check has answered
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert_locked(page, live_clinic, session_url)
    hand_back(page, live_clinic, session_url)
    expect(item(page, "Today's pre-infusion PHQ-9")).to_have_class(
        re.compile(r"\bok\b")
    )
    expect(item(page, "Today's pre-infusion PHQ-9")).to_contain_text("Done at")

    # -- the ketamine consent, signed by the patient on the tablet ----------------------
    item(page, "Consent current").get_by_role(
        "button", name="Hand the tablet to the patient to sign"
    ).click()
    page.get_by_role("button", name="Sign in and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent forms")
    assert_locked(page, live_clinic, session_url)
    page.get_by_role(
        "link", name=re.compile("Consent to IV ketamine treatment")
    ).click()
    page.get_by_label("Type your full name").fill(patient["name"])
    draw_signature(page)
    page.get_by_role("button", name="I agree and sign").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent forms")
    assert_locked(page, live_clinic, session_url)
    hand_back(page, live_clinic, session_url)
    expect(item(page, "Consent current")).to_have_class(re.compile(r"\bok\b"))

    signed_in_again = [url for url in loaded if SIGN_IN in url]
    assert signed_in_again == [], loaded
    assert loaded.count(live_clinic.url + HAND_BACK) == 2, loaded
