"""A patient answers a PHQ-9 by link with item 9 positive, sees the crisis lines at once,
and the prescriber sees the alert and acknowledges it with a documented assessment.

The urgent email about the alert carries an absolute link (issue 18 item 1: a mail client
cannot open "/measures/alerts/..."), and the link opens the alert: through the sign-in,
which returns to it."""

import email
import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveClinic, screenshot
from tests.browser.test_staff_journey import DEMO_PASSWORD, sign_in

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

    # and the responsible prescriber is emailed a link that a mail client can open
    page.get_by_role("button", name="Sign out").click()
    recipient, link, sent = alert_email(live_clinic)
    assert link.startswith(live_clinic.url + "/measures/alerts/"), link
    assert patient_name.split()[-1] not in sent  # no patient details by email

    # and opening it (signed out, as from a mail client) leads through the sign-in to the alert
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))
    page.get_by_label("Username").fill(recipient)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("Code from your authenticator app")).fill(
        live_clinic.totp(recipient)
    )
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "PHQ-9 item 9 positive"
    )
    # the alert is also on the clinic's list of safety alerts
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Safety alerts", exact=True
    ).click()
    page.locator("tr", has_text=patient_name).get_by_role("link").first.click()
    expect(page).to_have_url(link)

    # and the prescriber acknowledges it with an assessment
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


def alert_email(clinic: LiveClinic) -> tuple[str, str, str]:
    """The last urgent safety-alert email (Django's console backend writes each message to
    the server's output, followed by a rule): its recipient's username, its link and text."""
    deadline = time.monotonic() + 20
    while True:
        found = None
        for block in clinic.sent_mail().split("-" * 79):
            start = block.find("Content-Type:")
            if start < 0 or "Safety alert" not in block:
                continue
            message = email.message_from_string(block[start:].strip() + "\n")
            body = message.get_payload(decode=True)
            assert isinstance(body, bytes)
            link = re.search(r"(\S+/measures/alerts/\S+)", body.decode())
            if link is not None:
                found = (str(message["To"]).split("@")[0], link.group(1), block)
        if found is not None:
            return found
        assert time.monotonic() < deadline, "no safety-alert email was sent"
        time.sleep(0.5)
