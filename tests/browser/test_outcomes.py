"""The prescriber reads a booster suggestion's basis for a demo patient whose PHQ-9 is
rising and confirms it (the order is signed, the worklist offers Book); the medical
director's dashboard renders its charts and tables and fits a 390 px phone screen."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveClinic, screenshot
from tests.browser.test_staff_journey import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser


def test_prescriber_confirms_a_booster_and_the_dashboard_renders(
    page: Page, browser: Browser, live_clinic: LiveClinic
) -> None:
    # given a prescriber on the booster worklist
    sign_in(page, live_clinic, "prescriber")
    page.goto(live_clinic.url + "/outcomes/boosters/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Booster worklist")

    # when she reads the first suggestion's basis (the demo PHQ-9 rises 4, 6, 9, 12)
    first = page.locator("ul.basis").first
    expect(first).to_contain_text(re.compile(r"rise_from_nadir|rising_scores"))
    screenshot(page, "outcomes-booster-worklist")

    # and confirms it with her password
    row = page.locator("tr", has=page.locator("ul.basis")).first
    row.get_by_label("Your password to sign the booster order").fill(DEMO_PASSWORD)
    row.get_by_role("button", name="Confirm booster").click()

    # then the order is signed and the decision offers the front desk's booking
    expect(page.get_by_text("Booster confirmed and its order signed.")).to_be_visible()
    decided = page.locator("table").last
    expect(decided).to_contain_text("Confirmed by a prescriber")
    expect(decided.get_by_role("link", name="Book")).to_be_visible()

    # and the medical director's dashboard renders on a phone without sideways scrolling
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    director = phone.new_page()
    errors: list[str] = []
    director.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" else None
    )
    sign_in(director, live_clinic, "director")
    director.goto(live_clinic.url + "/outcomes/dashboard/")
    expect(director.get_by_role("heading", level=1)).to_have_text("Clinic outcomes")
    expect(director.locator("svg.outcome-chart").first).to_be_visible()
    expect(
        director.get_by_role("heading", name="Response by checkpoint")
    ).to_be_visible()
    expect(director.get_by_text("Episode summaries as of")).to_be_visible()
    expect(
        director.get_by_role("heading", name="Adverse events per 100 infusions")
    ).to_be_visible()
    overflow = director.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(director, "outcomes-dashboard-phone")
    assert overflow <= 0, f"the dashboard is {overflow} px wider than the phone"
    assert errors == []
    phone.close()
