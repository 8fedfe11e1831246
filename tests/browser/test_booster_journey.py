"""Issue 11's "Done when": the prescriber opens the booster worklist, reads the basis of
the suggestion for a demo patient whose PHQ-9 is rising, confirms it, and the patient's
portal offers the booster time.

The demo's booster-due patient is found by a stable synthetic family name
(`outcomes.demo.BOOSTER_DUE_FAMILY`); the outcomes demo has them sign the clinic's
revised ketamine consent, so the confirmation's checks pass. The portal has no booster
picker yet: the front desk books the confirmed booster (the outcomes "Boosters to book"
page, through the calendar) and the patient sees and confirms that time under "Your
visits" in the portal.
"""

import json
from datetime import date, timedelta

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
from neuroclinic.treatment.actions.plans import clinic_today
from neuroclinic.outcomes.models import BoosterSuggestion
s = BoosterSuggestion.objects.select_related("patient").get(
    patient__family_name="{family}", status="confirmed"
)
link, token = create_sign_in_link(s.patient, channel=PortalSignInLink.Channel.SHOWN, by=None)
print(json.dumps({{"url": sign_in_url(token), "given": s.patient.given_name,
    "today": clinic_today(s.organization_id).isoformat()}}))
"""


def next_weekday(after: date) -> date:
    day = after + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


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
    day = next_weekday(date.fromisoformat(found["today"]))

    # when the front desk books it in the calendar on the next weekday afternoon
    sign_in(page, live_clinic, "frontdesk")
    page.goto(live_clinic.url + "/outcomes/boosters/to-book/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Boosters to book")
    to_book = page.locator("tr", has_text=BOOSTER_DUE_FAMILY)
    to_book.get_by_label("Location", exact=True).select_option(
        label="Riverside Annex (demo)"
    )
    to_book.get_by_label("Date", exact=True).fill(day.isoformat())
    to_book.get_by_label("Time (the location's local time)").fill("15:00")
    to_book.get_by_role("button", name="Book").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Booster booked for {day.isoformat()} 15:00"
    )
    expect(page.locator("tr", has_text=BOOSTER_DUE_FAMILY)).to_have_count(0)

    # then the patient's portal offers that time, and she confirms she will come
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
    # The day only: the portal's visits page shows the hour in UTC, not the clinic's
    # (15:00 in Chicago reads 21:00), reported to the scheduling/portal owners.
    when = f"{day:%A} {day.day} {day:%B} at "
    visit = patient.locator("section.card").filter(
        has=patient.get_by_role("heading", name=when)
    )
    expect(visit).to_contain_text("Riverside Annex (demo)")
    expect(visit).to_contain_text("Bring an adult who will take you home")
    screenshot(patient, "portal-booster-visit")
    visit.get_by_role("button", name="I will be there").click()
    expect(patient.get_by_role("status")).to_have_text(
        "Thank you: your visit is confirmed."
    )
    assert errors == []
    phone.close()
