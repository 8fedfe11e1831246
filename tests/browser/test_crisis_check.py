"""The crisis lines' live check on a slow connection.

Each answer to PHQ-9 item 9 asks the server whether to show the crisis lines at once. On
a loaded machine the intake journey once logged two htmx console errors
("htmx:afterRequest" and "htmx:sendAbort" on the #crisis-now div): the visitor's second
answer to item 9 aborted the first answer's check, because the radios took the self-check
form's hx-sync="this:replace". Here the connection is made slow on purpose (Chromium's
network emulation, 1.5 s a request), so the first check is still on the wire when the
answer changes, every time: nothing may be aborted (the `page` fixture fails the test on
any console error), and the crisis lines follow the last answer.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveClinic

pytestmark = pytest.mark.browser

SLOW = {
    "offline": False,
    "latency": 1500,  # ms added to every request
    "downloadThroughput": -1,
    "uploadThroughput": -1,
}


def test_changing_item_9_while_its_check_is_on_the_wire_aborts_nothing(
    page: Page, live_clinic: LiveClinic
) -> None:
    page.goto(live_clinic.url + "/self-check/phq9/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions", SLOW)
    item9 = page.locator("fieldset.q-item").nth(8)
    crisis = page.locator("#crisis-now")

    # "Not at all", then at once "Several days": the second check waits for the first.
    item9.get_by_label("Not at all", exact=True).check()
    item9.get_by_label("Several days", exact=True).check()
    expect(crisis).to_contain_text("988", timeout=15000)

    # Back to "Not at all" while a check is again on the wire: the lines go away.
    item9.get_by_label("More than half the days", exact=True).check()
    item9.get_by_label("Not at all", exact=True).check()
    page.wait_for_load_state("networkidle")
    expect(crisis).not_to_contain_text("988", timeout=15000)
