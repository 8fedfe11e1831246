"""A TMS technician's day in a real browser, for demo patients.

The iTBS course in week 3: the daily check refuses a patient without ear protection (a
hard stop), then the session runs with the intensity from the motor threshold, a side
effect (entered while the tablet is offline, sent when it is back) and the pulses
delivered, and is signed. A second course (ordered for the demo
patient who finished a 10 Hz course) ends in the seizure path; its next session is
refused until the medical director documents a review.
"""

import json
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveClinic, screenshot
from tests.browser.test_infusion_day import sign_in

pytestmark = pytest.mark.browser

SETUP = """
import json
import re
from datetime import timedelta
from django.utils import timezone
from neuroclinic.accounts.models import User
from neuroclinic.tms.actions.courses import order_course
from neuroclinic.tms.models import TmsCourse
itbs = TmsCourse.objects.get(protocol_code="itbs-600")
done = TmsCourse.objects.get(protocol_code="rtms-10hz")
again = order_course(
    done.patient, protocol_code="itbs-600", target="beam_f3", acute_sessions=30,
    start_date=timezone.localdate(), location=done.location,
    by=User.objects.get(username="director"),
)
print(json.dumps({"itbs": str(itbs.uuid), "second": str(again.uuid)}))
"""


def daily_check(page: Page, *, ear_protection: bool = True) -> None:
    answers = {
        "metal_removed": True,
        "ear_protection": ear_protection,
        "alcohol_or_drugs": False,
        "medication_change": False,
        "poor_sleep": False,
    }
    for key, yes in answers.items():
        page.locator(f"#id_start-{key}_{0 if yes else 1}").check()
    page.locator("#id_start-supervising_physician").select_option(index=1)
    page.get_by_role("button", name="Start session").click()


def test_a_tms_session_and_the_seizure_path(
    page: Page, browser: Browser, live_clinic: LiveClinic
) -> None:
    courses = json.loads(live_clinic.manage("shell", "-c", SETUP).splitlines()[-1])
    sign_in(page, live_clinic, "tms")

    # -- a hard stop in the daily check, then a full session ---------------------------
    page.goto(f"{live_clinic.url}/tms/courses/{courses['itbs']}/session/")
    expect(page.locator("#intensity")).to_contain_text("Set 62 % output")  # 120 % of 52
    expect(page.locator("#intensity")).to_contain_text("120 % of MT 52 %")
    # The unit the threshold was found on is offered, with its limit (issue 10).
    expect(page.locator("#unit")).to_contain_text("TMS coil unit (max 100 % output)")
    expect(page.locator("#id_start-device option:checked")).to_contain_text(
        "TMS coil unit"
    )
    daily_check(page, ear_protection=False)
    expect(page.locator("#daily-check")).to_contain_text("Ear protection is required")
    screenshot(page, "tms-hard-stop")
    daily_check(page)
    expect(page.locator("#running")).to_contain_text(
        "600 pulses planned at 62 % output"
    )
    expect(page.locator("#running")).to_contain_text("TMS coil unit")
    # The connection drops: the side effect is kept on the tablet and sent when it is back.
    # (A second context, as in the infusion test: the failed fetch is a console error.)
    tablet = browser.new_context(storage_state=page.context.storage_state())
    second = tablet.new_page()
    second.goto(page.url)
    tablet.set_offline(True)
    second.locator("#id_effect-kind").select_option("scalp_pain")
    second.locator("#id_effect-severity").select_option("mild")
    second.get_by_role("button", name="Record side effect").click()
    expect(second.locator("#offline-queue")).to_contain_text(
        "1 entry saved on this tablet"
    )
    expect(second.locator("#connection")).to_contain_text("Offline")
    tablet.set_offline(False)
    expect(second.get_by_text("Sent what was saved on this tablet.")).to_be_visible(
        timeout=15000
    )
    expect(second.locator("#side-effects")).to_contain_text("Scalp pain")
    tablet.close()
    page.reload()
    expect(page.locator("#side-effects")).to_contain_text("Scalp pain")
    page.locator("#id_end-pulses_delivered").fill("601")
    page.get_by_role("button", name="End and sign").click()
    expect(page.locator("#end-form")).to_contain_text("more than the 600 planned")
    page.locator("#id_end-pulses_delivered").fill("600")
    page.get_by_role("button", name="End and sign").click()
    expect(page.locator("#progress")).to_contain_text(re.compile(r"Session \d+ of 30"))
    expect(page.locator("#daily-check")).to_be_visible()
    screenshot(page, "tms-session-signed")

    # -- the seizure path ---------------------------------------------------------------
    page.goto(f"{live_clinic.url}/tms/courses/{courses['second']}/session/")
    daily_check(page)
    page.get_by_role("button", name="Seizure: stop now").click()
    expect(page.locator("#blocked")).to_contain_text("on hold after a seizure")
    daily_check(page)
    expect(page.locator("#daily-check")).to_contain_text("on hold after a seizure")
    screenshot(page, "tms-seizure-hold")

    # -- the medical director's review releases the hold --------------------------------
    page.context.clear_cookies()
    sign_in(page, live_clinic, "director")
    page.goto(f"{live_clinic.url}/tms/courses/{courses['second']}/")
    expect(page.locator("#hold")).to_be_visible()
    page.locator("#id_decision").select_option("resume")
    page.locator("#id_note").fill(
        "Reviewed with the patient; resume at the same intensity (demo)."
    )
    page.get_by_role("button", name="Document review").click()
    expect(page.locator("#hold")).to_have_count(0)
