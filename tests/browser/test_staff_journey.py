"""Staff sign in with a TOTP code, find a patient, open the chart, and the read is on the audit log."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveClinic, screenshot

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo-clinic-2026"


def sign_in(page: Page, clinic: LiveClinic, username: str) -> None:
    page.goto(clinic.url + "/staff/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("Code from your authenticator app")).fill(
        clinic.totp(username)
    )
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def test_nurse_finds_a_patient_and_the_auditor_sees_the_chart_read(
    page: Page, live_clinic: LiveClinic
) -> None:
    # given a nurse signed in with password and TOTP
    sign_in(page, live_clinic, "nurse")

    # when she types part of a name into the search that is on every page
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Find a patient")).to_be_focused()
    page.keyboard.type("demow")
    results = page.locator("#global-search-results a")
    expect(results.first).to_be_visible()
    expect(results.first).to_contain_text("Demowitz")
    screenshot(page, "staff-search")
    results.first.click()

    # then the chart opens with its header
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    mrn_text = page.locator(".chart-facts").inner_text()
    mrn = re.search(r"MRN (\S+)", mrn_text)
    assert mrn is not None
    expect(page.locator(".allergy-badge")).to_contain_text("Allergies")
    screenshot(page, "staff-chart")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))

    # and the auditor finds that read on the audit page
    sign_in(page, live_clinic, "auditor")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Audit log", exact=True
    ).click()
    page.get_by_label("Patient MRN").fill(mrn.group(1))
    page.get_by_label("Action").select_option("patients.chart_viewed")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("nurse")
    expect(rows.first).to_contain_text("Chart opened")
    expect(rows.first).to_contain_text(mrn.group(1))
    screenshot(page, "audit-log")


def test_a_wrong_code_is_refused_and_nothing_opens(
    page: Page, live_clinic: LiveClinic
) -> None:
    page.goto(live_clinic.url + "/accounts/sign-in/")
    page.get_by_label("Username").fill("frontdesk")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("Code from your authenticator app")).fill("000000")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.goto(live_clinic.url + "/patients/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))
