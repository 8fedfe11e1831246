"""Issue 11's "Done when": the prescriber opens the booster worklist, reads the basis of
the suggestion for a demo patient whose PHQ-9 is rising, confirms it, and the patient's
portal offers the booster time.

The demo's booster-due patient is found by a stable synthetic family name
(`outcomes.demo.BOOSTER_DUE_FAMILY`); the outcomes demo has them sign the clinic's
revised ketamine consent, so the confirmation's checks pass. The patient then picks
the booster's time in the portal from the free times the booster protocol's interval
allows, and confirms the visit she booked. (The front desk's "Boosters to book" page is
the other way in, tested in neuroclinic/outcomes/tests.)
"""

import json

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveClinic, screenshot
from tests.browser.test_staff_journey import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser

# outcomes.demo.BOOSTER_DUE_FAMILY (not imported: the test process does not load Django
# models; the demo clinic names patients by index, so this name is stable).
BOOSTER_DUE_FAMILY = "Dummington"

PORTAL_LINK = """
import json
from neuroclinic.intake.actions.sign_in import create_sign_in_link, sign_in_url
from neuroclinic.intake.models import PortalSignInLink
from neuroclinic.outcomes.models import BoosterSuggestion
s = BoosterSuggestion.objects.select_related("patient").get(
    patient__family_name="{family}", status="confirmed"
)
link, token = create_sign_in_link(s.patient, channel=PortalSignInLink.Channel.SHOWN, by=None)
print(json.dumps({{"url": sign_in_url(token), "given": s.patient.given_name}}))
"""


def test_prescriber_confirms_a_rising_patients_booster_and_the_portal_offers_its_time(
    page: Page, browser: Browser, live_clinic: LiveClinic
) -> None:
    # given the prescriber on the booster worklist
    sign_in(page, live_clinic, "prescriber")
    page.goto(live_clinic.url + "/outcomes/boosters/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Booster worklist")

    # when she reads the basis of the demo patient's suggestion: PHQ-9 4, 6, 9, 12
    row = page.locator("tr", has_text=BOOSTER_DUE_FAMILY).filter(
        has=page.locator("ul.basis")
    )
    expect(row).to_have_count(1)
    basis = row.locator("ul.basis")
    expect(basis).to_contain_text("rising_scores")
    expect(basis).to_contain_text("2 rises in a row: 6")
    expect(basis).to_contain_text("rise_from_nadir")
    expect(basis).to_contain_text("PHQ9 12 on")
    screenshot(page, "booster-worklist-basis")

    # and confirms it, re-entering her password to sign the booster order
    row.get_by_label("Your password to sign the booster order").fill(DEMO_PASSWORD)
    row.get_by_role("button", name="Confirm booster").click()

    # then the order is signed and the decision waits for the front desk's booking
    expect(page.get_by_text("Booster confirmed and its order signed.")).to_be_visible()
    decided = page.locator("table").last.locator("tr", has_text=BOOSTER_DUE_FAMILY)
    expect(decided).to_contain_text("Confirmed by a prescriber")
    expect(decided.get_by_role("link", name="Book")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    found = json.loads(
        live_clinic.manage(
            "shell", "-c", PORTAL_LINK.format(family=BOOSTER_DUE_FAMILY)
        ).splitlines()[-1]
    )

    # then the patient's portal, on her phone, offers the booster times the rules allow
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    patient = phone.new_page()
    errors: list[str] = []
    patient.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" else None
    )
    patient.goto(found["url"])
    patient.get_by_role("button", name="Sign in and continue").click()
    expect(patient.get_by_role("heading", level=1)).to_contain_text(
        f"Hello {found['given']}"
    )
    patient.goto(live_clinic.url + "/portal/visits/")
    patient.get_by_role("link", name="Choose its time").click()
    expect(patient.get_by_role("heading", level=1)).to_have_text(
        "Choose your booster time"
    )
    expect(
        patient.get_by_text("Your prescriber has ordered a booster.")
    ).to_be_visible()
    assert patient.locator("input[name=slot]").count() > 1
    screenshot(patient, "portal-booster-pick")

    # when she picks the first time offered and books it
    first = patient.locator("input[name=slot]").first
    label = patient.locator(f"label[for={first.get_attribute('id')}]").inner_text()
    first.check()
    patient.get_by_role("button", name="Book this time").click()

    # then her visits list the booster at that time, with the instructions that matter
    expect(patient.get_by_role("status")).to_contain_text(
        "Your booster visit is booked for"
    )
    visit = patient.locator("section.card").filter(
        has=patient.get_by_role("heading", name=label)
    )
    expect(visit).to_have_count(1)
    expect(visit).to_contain_text("Bring an adult who will take you home")
    screenshot(patient, "portal-booster-visit")
    visit.get_by_role("button", name="I will be there").click()
    expect(patient.get_by_role("status")).to_have_text(
        "Thank you: your visit is confirmed."
    )
    assert errors == []
    phone.close()
