"""A patient answers a PHQ-9 by link with item 9 positive, sees the crisis lines at once,
and the prescriber sees the alert and acknowledges it with a documented assessment."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveClinic, screenshot
from tests.browser.test_staff_journey import sign_in

pytestmark = pytest.mark.browser

PHQ9_ANSWERS = [
    "Several days",
    "More than half the days",
    "Several days",
    "Nearly every day",
    "Not at all",
    "Several days",
    "More than half the days",
    "Not at all",
]


def test_item_9_on_a_portal_phq9_reaches_the_prescriber_who_acknowledges_it(
    page: Page, browser: Browser, live_clinic: LiveClinic
) -> None:
    # given a nurse who sends a PHQ-9 link to a patient
    sign_in(page, live_clinic, "nurse")
    page.get_by_role("searchbox", name="Find a patient").fill("notreal")
    page.locator("#global-search-results a").first.click()
    patient_name = (
        page.get_by_role("heading", level=1).inner_text().split("(")[0].strip()
    )
    page.get_by_role("link", name="Scores and trajectories").click()
    page.get_by_label("Send by").select_option("none")
    page.get_by_role("button", name="Send link").click()
    link = page.get_by_label("Questionnaire link").input_value()
    assert "/q/" in link

    # when the patient opens it on a phone and answers item 9 "Several days"
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    patient = phone.new_page()
    patient_errors: list[str] = []
    patient.on(
        "console",
        lambda m: patient_errors.append(m.text) if m.type == "error" else None,
    )
    patient.goto(link)
    expect(patient.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    items = patient.locator("fieldset.q-item")
    for index, label in enumerate(PHQ9_ANSWERS):
        items.nth(index).get_by_label(label, exact=True).check()
    items.nth(8).get_by_label("Several days", exact=True).check()

    # then the crisis lines appear at once, before sending
    crisis_now = patient.locator("#crisis-now")
    expect(crisis_now).to_contain_text("988")
    screenshot(patient, "portal-item9-crisis-now")
    items.nth(9).get_by_label("Somewhat difficult", exact=True).check()
    patient.get_by_role("button", name="Send my answers").click()
    expect(patient.get_by_role("alert").first).to_contain_text("988")
    expect(patient.get_by_text("press 1")).to_be_visible()
    screenshot(patient, "portal-crisis")
    assert patient_errors == []
    phone.close()

    # and the prescriber finds the alert and acknowledges it with an assessment
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_clinic, "prescriber")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Safety alerts", exact=True
    ).click()
    page.locator("tr", has_text=patient_name).get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "PHQ-9 item 9 positive"
    )
    page.get_by_label("Ideation").fill(
        "Passive thoughts some days; no active ideation."
    )
    page.get_by_label(re.compile(r"^Plan:?$")).fill("None.")
    page.get_by_label("Intent").fill("None.")
    page.get_by_label("Suicidal behaviour (recent and past)").fill("No attempts.")
    page.get_by_label("Protective factors").fill("Lives with partner; engaged in care.")
    page.get_by_role("radio", name="Low").check()
    page.get_by_label("Safety plan reviewed and updated").check()
    page.get_by_label("Plan and follow-up").fill(
        "Called the patient; safety plan reviewed."
    )
    screenshot(page, "alert-acknowledge")
    page.get_by_role("button", name="Acknowledge alert").click()
    expect(page.get_by_text("Alert acknowledged")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        patient_name.split()[0]
    )
    screenshot(page, "measures-trajectories")
