"""Issue 14, item 5, in a real browser: an entry queued offline belongs to the nurse who
made it. Nurse A stops the demo's running infusion while the tablet is offline (the stop
is queued on the tablet), A's sign-in ends, and a second clinician (B) signs in on the
same tablet: A's queued stop is not sent under B's name, the infusion keeps running, and
the entry stays on the tablet. When A signs in again, it is sent and charted as A's.
"""

import json
import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import LiveClinic
from tests.browser.test_infusion_day import sign_in

pytestmark = pytest.mark.browser

NURSE_A = "nurse"
# The demo clinic has one nurse; the prescriber may also run infusions (RUN_INFUSIONS).
CLINICIAN_B = "prescriber"


def running_session(clinic: LiveClinic) -> dict[str, str]:
    """The demo's infusion running now, and the pump's volume estimate for a stop now."""
    code = """
import json
from neuroclinic.infusions.actions.session_flow import estimated_volume_ml
from neuroclinic.infusions.models import InfusionSession
s = InfusionSession.objects.filter(status="running").order_by("started_at").first()
print(json.dumps({"uuid": str(s.uuid), "volume": str(estimated_volume_ml(s))}))
"""
    found: dict[str, str] = json.loads(
        clinic.manage("shell", "-c", code).splitlines()[-1]
    )
    return found


def stop_state(clinic: LiveClinic, ref: str) -> dict[str, object]:
    """The session's status and who charted a stop on it (server side, not the page)."""
    code = f"""
import json
from neuroclinic.infusions.models import InfusionSession, SessionEvent
s = InfusionSession.objects.get(uuid="{ref}")
stops = SessionEvent.objects.filter(session=s, kind="stopped").select_related("by")
print(json.dumps({{"status": s.status, "stopped_by": [e.by.username for e in stops]}}))
"""
    state: dict[str, object] = json.loads(
        clinic.manage("shell", "-c", code).splitlines()[-1]
    )
    return state


def test_item5_a_queued_stop_is_not_sent_under_the_next_user(
    browser: Browser, live_clinic: LiveClinic
) -> None:
    found = running_session(live_clinic)
    session_url = f"{live_clinic.url}/infusions/sessions/{found['uuid']}/"
    tablet = browser.new_context()
    page = tablet.new_page()
    try:
        # Nurse A, offline, stops the infusion: the tablet keeps the stop for A.
        sign_in(page, live_clinic, NURSE_A)
        page.goto(session_url)
        expect(page.locator(".status-label")).to_have_text("Infusing")
        queue_a = page.locator("#offline-queue").get_attribute("data-user")
        assert queue_a
        tablet.set_offline(True)
        stop = page.locator("form.stop-form")
        stop.get_by_role("radio", name="Stopped early").check()
        stop.get_by_label("Reason (required when stopped early)").fill(
            "Patient asked to stop: anxious"
        )
        stop.get_by_label("Volume infused (mL, from the pump)").fill(found["volume"])
        stop.get_by_role("button", name="Stop infusion").click()
        expect(page.locator("#offline-queue")).to_contain_text(
            "1 entry saved on this tablet"
        )

        # A's sign-in ends while the tablet is offline (as the idle sign-out does: the
        # session cookie is gone, the CSRF cookie stays), then the connection comes
        # back: nothing can be sent for A without A.
        tablet.clear_cookies(name="sessionid")
        tablet.set_offline(False)
        # The screen's next poll finds the session gone and sends the whole screen to
        # sign-in (IdleTimeoutMiddleware, @polled): the queued stop stays unsent.
        expect(page).to_have_url(re.compile(r"/accounts/sign-in/"), timeout=15000)
        assert stop_state(live_clinic, found["uuid"])["stopped_by"] == []

        # B signs in on the same tablet and opens the same infusion.
        sign_in(page, live_clinic, CLINICIAN_B)
        page.goto(session_url)
        queue_b = page.locator("#offline-queue").get_attribute("data-user")
        assert queue_b
        assert queue_b != queue_a
        # B's tablet queue is B's own: A's entry is neither shown to B nor sent.
        expect(page.locator("#offline-queue")).to_be_hidden()
        page.wait_for_timeout(6000)  # longer than the tablet's retry interval (5 s)
        expect(page.locator(".status-label")).to_have_text("Infusing")
        assert stop_state(live_clinic, found["uuid"]) == {
            "status": "running",
            "stopped_by": [],
        }
        # A's entry is still on the tablet, under A's key: signing in as B cleared nothing.
        kept = page.evaluate(
            "key => JSON.parse(localStorage.getItem(key) || '[]').length",
            f"neuroclinic.infusion.queue.v2:{queue_a}",
        )
        assert kept == 1

        # A replay of A's entry while B is signed in is refused (409), nothing charted.
        refused = page.evaluate(
            """async ([url, madeBy]) => {
                const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
                const body = new URLSearchParams({
                    csrfmiddlewaretoken: csrf, "stop-completed": "no",
                    "stop-reason": "replayed", made_by: madeBy });
                const r = await fetch(url, {method: "POST", body, credentials: "same-origin",
                    headers: {"X-CSRFToken": csrf, "X-Tablet-Replay": "1"}});
                return r.status;
            }""",
            [session_url + "stop", queue_a],
        )
        assert refused == 409
        assert stop_state(live_clinic, found["uuid"])["stopped_by"] == []

        # B signs out; A signs in again on the tablet: the stop A made is sent, under A's name.
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, live_clinic, NURSE_A)
        page.goto(session_url)
        expect(page.get_by_text("Sent what was saved on this tablet.")).to_be_visible(
            timeout=20000
        )
        assert stop_state(live_clinic, found["uuid"]) == {
            "status": "recovery",
            "stopped_by": [NURSE_A],
        }
    finally:
        tablet.close()
