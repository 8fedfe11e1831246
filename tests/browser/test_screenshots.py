"""Issue 18: every role's home page at 1280 px (a laptop) and 820 px (a tablet), and each page
of the public site at 1280 px and 390 px (a phone), with no horizontal overflow at any width. The pictures go to var/test-artifacts/screenshots/; with
NEUROCLINIC_DOCS_SCREENSHOTS=1 they refresh docs/screenshots/ instead (a test run does not
change the repository's files unless asked to).

The infusion steps are photographed by tests/browser/test_infusion_taps.py as it runs; the
two a routine infusion does not reach with a session on the screen (the check-in on the
chart, and the waste of a remainder) here, also at 390 px (a phone).
"""

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS, LiveClinic
from tests.browser.test_infusion_day import sign_in

pytestmark = pytest.mark.browser

DOCS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("NEUROCLINIC_DOCS_SCREENSHOTS") == "1"
    else ARTIFACTS / "screenshots"
)
WIDTHS = (1280, 820)
ALL_WIDTHS = (1280, 820, 390)
PUBLIC_WIDTHS = (1280, 390)
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


def document(page: Page, name: str, widths: tuple[int, ...] = WIDTHS) -> None:
    """The page at each width, full length, as <DOCS>/<name>-<width>.png."""
    DOCS.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        # No page scrolls sideways at any width (390 px: tests/browser/test_staff_walk.py).
        assert overflow <= 0, f"{name} overflows by {overflow} px at {width} px"
        # From the top: a sticky element (the infusion screen's live header) is drawn
        # where the page is scrolled to, over the middle of a full-page picture.
        page.evaluate("window.scrollTo(0, 0)")
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


# The public site as a visitor finds it (signed out): each page the menu and the home page
# link to, the self-check's choice and its PHQ-9 form, and the consultation request.
PUBLIC_PAGES = (
    ("home", "/"),
    ("conditions", "/conditions/"),
    ("treatments", "/treatments/"),
    ("process", "/process/"),
    ("faq", "/faq/"),
    ("team", "/team/"),
    ("contact", "/contact/"),
    ("self-check", "/self-check/"),
    ("self-check-phq9", "/self-check/phq9/"),
    ("consultation", "/consultation/"),
)


@pytest.mark.parametrize(
    ("name", "path"), PUBLIC_PAGES, ids=[n for n, _ in PUBLIC_PAGES]
)
def test_each_public_page_is_documented_at_1280_and_390_px(
    page: Page, live_clinic: LiveClinic, name: str, path: str
) -> None:
    page.goto(live_clinic.url + path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # The crisis line is on every public page (issue 7).
    expect(page.locator(".crisis-banner")).to_contain_text("988")
    # Every answer open, so the picture shows what a visitor reads, not only questions.
    page.evaluate(
        "document.querySelectorAll('main details').forEach(d => d.open = true)"
    )
    document(page, f"public-{name}", widths=PUBLIC_WIDTHS)


# A patient ready for an infusion (as the tap count makes one), then, for the waste step,
# an infusion of theirs taken through to discharge in the last two hours by the demo's
# own steps (`infusions.demo`): the nurse drew a tenth of a millilitre more than the dose,
# as the demo does, so the remainder is outstanding and the screen opens on the waste.
READY_PATIENT = """
import json
import random
from datetime import date
from neuroclinic.accounts.models import User
from neuroclinic.clinics.demo import DemoContext
from neuroclinic.scheduling.demo import make_ready_patient
staff = {u.username: u for u in User.objects.filter(username__in=["frontdesk", "prescriber", "director"])}
context = DemoContext(organization=staff["frontdesk"].organization, staff=staff,
                      patients=[], rng=random.Random(1818))
chosen = make_ready_patient(context, family_name="Wasteman", given_name="Robin",
                            birth_date=date(1984, 6, 6), phone="555-0197")
assert chosen is not None, "the demo's protocols or consent forms are missing"
print(json.dumps({"mrn": chosen.mrn}))
"""

DISCHARGED_WITH_REMAINDER = """
import json
import random
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from neuroclinic.accounts.models import User
from neuroclinic.clinics.demo import DemoContext
from neuroclinic.clinics.models import Location
from neuroclinic.infusions import demo
from neuroclinic.infusions.actions import dose_draw, monitoring, recovery_discharge, session_flow
from neuroclinic.infusions.actions.common import current_dose
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.ledger.models import Registrant
from neuroclinic.patients.models import Patient
staff = {u.username: u for u in User.objects.filter(username__in=["nurse", "custodian", "prescriber", "director", "frontdesk"])}
organization = staff["nurse"].organization
context = DemoContext(organization=organization, staff=staff, patients=[], rng=random.Random(1818))
annex = Location.objects.filter(organization=organization).order_by("id").last()
clinic = demo.Clinic(context, annex, annex, Registrant.objects.get(location=annex), None, None, None)
patient = Patient.objects.get(organization=organization, mrn="{mrn}")
now = timezone.now()
person = demo.Person(patient=patient, course="responds", baseline_total=18,
                     baseline_at=now - timedelta(days=9), weight_kg=Decimal(72), height_cm=Decimal(168))
# A room no other journey left a patient in (the calendar's check-in opens one).
busy = set(InfusionSession.objects.filter(status__in=InfusionSession.OPEN_STATUSES).values_list("room_id", flat=True))
room = next(r for r in demo._rooms(annex) if r.pk not in busy)
t0 = now - timedelta(minutes=100)
session = demo._check_in_to_start(clinic, person, room, t0, ordinal=0).session
dose = current_dose(session)
end = session.started_at + timedelta(minutes=dose.duration_minutes)
session_flow.stop(session, by=staff["nurse"], reason="", completed=True,
                  volume_infused_ml=dose.total_volume_ml, occurred_at=end, now=end)
monitor = demo._monitor(clinic, room)
monitoring.ingest_readings(session, [
    {"device": str(monitor.uuid), "taken_at": (end + timedelta(minutes=m)).isoformat(),
     **demo._vitals(context.rng, systolic=126, heart=74)} for m in (15, 30)
], source=VitalReading.Source.MONITOR, by=None, now=end + timedelta(minutes=31))
recovery_discharge.assess_recovery(session, by=staff["nurse"], activity=2, respiration=2,
                                   circulation=2, consciousness=2, spo2=2, moaas_score=5,
                                   now=end + timedelta(minutes=33))
recovery_discharge.discharge(session, by=staff["nurse"], escort_name=session.escort_name,
                             instructions_channel="paper", now=end + timedelta(minutes=36))
assert dose_draw.ledger_summary(session).outstanding_ml > 0
print(json.dumps({"session": str(session.uuid)}))
"""


def test_the_check_in_and_waste_steps_are_documented_at_1280_820_and_390_px(
    browser: Browser, live_clinic: LiveClinic
) -> None:
    """The two steps the tap count does not photograph: the check-in (on the chart, before
    there is a session) and the waste of what was drawn and not given."""
    mrn = json.loads(live_clinic.manage("shell", "-c", READY_PATIENT).splitlines()[-1])[
        "mrn"
    ]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_clinic, "nurse")
        page.get_by_role("searchbox", name="Find a patient").fill(mrn)
        page.locator("#global-search-results a").first.click()
        expect(page.locator(".chart-facts")).to_contain_text(mrn)
        check_in = page.locator(".treatment-panel")
        expect(check_in.get_by_role("button", name="Check in")).to_be_visible()
        check_in.scroll_into_view_if_needed()
        document(page, "infusion-0-check-in", widths=ALL_WIDTHS)

        session = json.loads(
            live_clinic.manage(
                "shell", "-c", DISCHARGED_WITH_REMAINDER.replace("{mrn}", mrn)
            ).splitlines()[-1]
        )["session"]
        page.goto(f"{live_clinic.url}/infusions/sessions/{session}/")
        waste = page.locator("#waste")
        expect(
            waste.get_by_role("button", name=re.compile("waste", re.I))
        ).to_be_visible()
        document(page, "infusion-6-waste", widths=ALL_WIDTHS)
    finally:
        context.close()
