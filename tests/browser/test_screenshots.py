"""Issue 18: every role's home page at 1280 px (a laptop) and 820 px (a tablet), with no
horizontal overflow at either width. The pictures go to var/test-artifacts/screenshots/; with
NEUROCLINIC_DOCS_SCREENSHOTS=1 they refresh docs/screenshots/ instead (a test run does not
change the repository's files unless asked to).

The infusion steps are photographed by tests/browser/test_infusion_taps.py as it runs.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS, LiveClinic
from tests.browser.test_infusion_day import let_codes_expire, sign_in

pytestmark = pytest.mark.browser

DOCS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("NEUROCLINIC_DOCS_SCREENSHOTS") == "1"
    else ARTIFACTS / "screenshots"
)
WIDTHS = (1280, 820)
ROLES = (
    "nurse",
    "prescriber",
    "frontdesk",
    "custodian",
    "director",
    "admin",
    "tms",
    "billing",
    "auditor",
)


def document(page: Page, name: str) -> None:
    """The page at each width, full length, as <DOCS>/<name>-<width>.png."""
    DOCS.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        # No page scrolls sideways at either width (390 px: tests/browser/test_staff_walk.py).
        assert overflow <= 0, f"{name} overflows by {overflow} px at {width} px"
        page.screenshot(path=str(DOCS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


@pytest.mark.parametrize("username", ROLES)
def test_each_roles_home_page_is_documented_at_1280_and_820_px(
    browser: Browser, live_clinic: LiveClinic, username: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_clinic, username)
        expect(page.locator("main")).to_be_visible()
        document(page, f"home-{username}")
    finally:
        context.close()
    if username == ROLES[-1]:
        let_codes_expire()
