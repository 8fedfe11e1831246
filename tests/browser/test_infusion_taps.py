"""Issue 18, item 3: a routine infusion on the tablet in at most 25 taps and 8 typed fields.

A routine infusion: a new patient ready for one (eligible, consented, a signed order),
who completed today's PHQ-9 on the waiting room's tablet before the nurse picked them up
(the patient's taps, not the nurse's), in a room whose monitor sends the vital signs
(posted to the API with the monitor's own token, as the monitor does). The nurse signs in, then is counted from opening the chart
to the signed note. Every tap and every typed field goes through `Counted`, so the count
is of what the test did, not of what the page offers; a reload would count as a tap, and
there is none: the nurse who comes back after the thirty minutes of recovery finds the
screen already showing them (the steps refresh themselves).
"""

import json
import re
import sys
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import ARTIFACTS, LiveClinic
from tests.browser.test_infusion_day import (
    DEMO_PASSWORD,
    ZONE,
    sign_in,
)
from tests.browser.test_screenshots import document

pytestmark = pytest.mark.browser

MAX_TAPS = 25
MAX_TYPED = 8


@dataclass
class Counted:
    """The test's own actions on the page, counted."""

    page: Page
    taps: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)

    def tap(self, locator: Locator, what: str) -> None:
        locator.click()
        self.taps.append(what)

    def check(self, locator: Locator, what: str) -> None:
        locator.check()
        self.taps.append(what)

    def choose(self, locator: Locator, value: str, what: str) -> None:
        locator.select_option(value)
        self.taps.append(what)

    def type(self, locator: Locator, text: str, what: str) -> None:
        locator.fill(text)
        self.typed.append(what)

    def reload(self, what: str) -> None:
        self.page.reload()
        self.taps.append(what)


ROUTINE_PATIENT = """
# Its own patient, so the count does not depend on which demo patients other journeys
# used: eligible, consented, with a signed induction order, made as the demo makes its
# series patient (the intake and treatment actions, the prescriber signing with the demo
# password). The PHQ-9 is the patient's, on the waiting room's tablet.
import json
import random
from datetime import date
from neuroclinic.accounts.models import User
from neuroclinic.clinics.demo import DemoContext
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.demo import answers_for
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.scheduling.demo import make_ready_patient
staff = {u.username: u for u in User.objects.filter(username__in=["frontdesk", "prescriber", "director"])}
context = DemoContext(organization=staff["frontdesk"].organization, staff=staff,
                      patients=[], rng=random.Random(18))
chosen = make_ready_patient(context, family_name="Routineson", given_name="Taylor",
                            birth_date=date(1979, 3, 3), phone="555-0198")
assert chosen is not None, "the demo's protocols or consent forms are missing"
record_response(chosen, instrument_code="phq9", answers=answers_for("phq9", 9, random.Random(18)),
                source=QuestionnaireResponse.Source.KIOSK, by=None)
# A room of the nurse's site with no infusion open in it now: which rooms the demo's own
# infusions and the other journeys (the calendar's check-in) hold depends on the hour.
from neuroclinic.clinics.models import Room
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.scheduling.models import StaffShift
site = StaffShift.objects.filter(user__username="nurse").order_by("id").first().location
busy = InfusionSession.objects.filter(location=site, status__in=InfusionSession.OPEN_STATUSES)
room = (Room.objects.filter(location=site, kind=Room.Kind.INFUSION, is_active=True)
        .exclude(pk__in=busy.values("room_id")).order_by("-name").first())
assert room is not None, f"every infusion room at {site.name} is in use"
print(json.dumps({"mrn": chosen.mrn, "room": f"{site.name} · {room.name}"}))
"""


def monitor_for(clinic: LiveClinic, session_ref: str) -> dict[str, str]:
    """The room's monitor and a vitals-only token for it (as the clinic sets a monitor up)."""
    code = f"""
import json
from neuroclinic.accounts.actions import create_api_token
from neuroclinic.accounts.models import TokenScope, User
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.models import InfusionSession
s = InfusionSession.objects.get(uuid="{session_ref}")
device = (Device.objects.filter(room=s.room, kind="monitor").first()
          or Device.objects.filter(location=s.location, kind="monitor").first())
nurse = User.objects.get(username="nurse")
_, raw = create_api_token(nurse, name="monitor {session_ref[:8]}", by=nurse, scope=TokenScope.VITALS)
print(json.dumps({{"device": str(device.uuid), "token": raw}}))
"""
    found: dict[str, str] = json.loads(
        clinic.manage("shell", "-c", code).splitlines()[-1]
    )
    return found


def monitor_sends(
    clinic: LiveClinic, session_ref: str, monitor: dict[str, str], minutes_ago: int = 0
) -> None:
    taken = datetime.now(tz=UTC) - timedelta(minutes=minutes_ago)
    reading = {
        "device": monitor["device"],
        "taken_at": taken.isoformat(),
        "systolic_mmhg": 124,
        "diastolic_mmhg": 78,
        "heart_rate_bpm": 72,
        "spo2_percent": 98,
        "respiratory_rate_per_min": 14,
    }
    request = urllib.request.Request(
        f"{clinic.url}/api/infusions/sessions/{session_ref}/vitals",
        data=json.dumps(reading).encode(),
        headers={
            "Authorization": f"Bearer {monitor['token']}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200


def shell(clinic: LiveClinic, code: str) -> str:
    return clinic.manage("shell", "-c", code).splitlines()[-1]


def test_a_routine_infusion_takes_at_most_25_taps_and_8_typed_fields(
    page: Page, live_clinic: LiveClinic
) -> None:
    routine = json.loads(shell(live_clinic, ROUTINE_PATIENT))
    mrn = routine["mrn"]
    sign_in(page, live_clinic, "nurse")
    nurse = Counted(page)

    # -- opening the chart, check-in ----------------------------------------------------
    nurse.type(page.get_by_role("searchbox", name="Find a patient"), mrn, "search: MRN")
    nurse.tap(page.locator("#global-search-results a").first, "search result")
    expect(page.locator(".chart-facts")).to_contain_text(mrn)
    nurse.choose(
        page.locator(".treatment-panel").get_by_label("Check in for an infusion in"),
        routine["room"],
        "room",
    )
    nurse.tap(
        page.locator(".treatment-panel").get_by_role("button", name="Check in"),
        "Check in",
    )
    expect(page.get_by_role("heading", name="1. Checklist")).to_be_visible()
    session_url = page.url
    ref = session_url.rstrip("/").rsplit("/", 1)[-1]
    monitor = monitor_for(live_clinic, ref)
    monitor_sends(live_clinic, ref, monitor)  # the baseline
    page.reload()  # not counted: the monitor's reading shows without it (the live panel)
    document(page, "infusion-1-checklist")

    # -- checklist --------------------------------------------------------------------
    now = datetime.now(tz=ZONE)
    form = page.locator("form.checklist-form")
    nurse.type(form.get_by_label("Today's weight"), "80", "weight")
    nurse.type(form.get_by_label("Height (cm)"), "172", "height")
    nurse.type(
        form.get_by_label("Last solid food"),
        (now - timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M"),
        "last solid food",
    )
    nurse.type(
        form.get_by_label("Last clear liquids"),
        (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "last clear liquids",
    )
    nurse.check(form.get_by_label("I confirmed the escort"), "escort confirmed")
    nurse.choose(
        form.get_by_label("Pregnancy status"), "reported_not_pregnant", "pregnancy"
    )
    nurse.tap(form.get_by_role("button", name="Save checklist"), "Save checklist")
    expect(page.get_by_text("Checklist saved.")).to_be_visible()
    expect(page.locator(".checklist li.stop")).to_have_count(0)
    nurse.tap(page.get_by_role("button", name="Confirm checklist"), "Confirm checklist")
    expect(page.get_by_text("every hard stop is clear")).to_be_visible()
    document(page, "infusion-2-dose-and-draw")

    # -- dose and draw (the vial and the volume are suggested) ---------------------------
    nurse.tap(page.get_by_role("button", name="Calculate dose"), "Calculate dose")
    expect(page.get_by_text(re.compile(r"Dose calculated: "))).to_be_visible()
    nurse.tap(page.get_by_role("button", name="Record draw"), "Record draw")
    expect(page.get_by_text(re.compile(r"Drew .* mL"))).to_be_visible()

    # -- the infusion, the monitor sending -----------------------------------------------
    nurse.tap(
        page.get_by_role("button", name=re.compile("Start infusion")), "Start infusion"
    )
    expect(page.locator(".status-label")).to_have_text("Infusing")
    # The screen brings the new step to just below the live header (which stays at the
    # top), not under it: the step's heading is in sight.
    hidden_by = page.evaluate(
        "() => document.getElementById('live').getBoundingClientRect().bottom"
        " - document.querySelector('#infusion h2').getBoundingClientRect().top"
    )
    assert hidden_by <= 0, f"the step's heading is {hidden_by} px under the live header"
    monitor_sends(live_clinic, ref, monitor)
    expect(page.locator(".vitals-now")).to_contain_text("124/78", timeout=5000)
    document(page, "infusion-3-running")
    bag_ml = shell(
        live_clinic,
        "from neuroclinic.infusions.actions.common import current_dose\n"
        "from neuroclinic.infusions.models import InfusionSession\n"
        "from neuroclinic.infusions.tests.factories import ran_for\n"
        f"s = ran_for(InfusionSession.objects.get(uuid='{ref}'), 40)\n"
        "print(current_dose(s).total_volume_ml)",
    )
    for minutes in (30, 15, 1):
        monitor_sends(live_clinic, ref, monitor, minutes_ago=minutes)
    stop = page.locator("form.stop-form")
    # "Completed as ordered" is the default.
    nurse.type(
        stop.get_by_label("Volume infused (mL, from the pump)"), bag_ml, "pump volume"
    )
    nurse.tap(stop.get_by_role("button", name="Stop infusion"), "Stop infusion")
    expect(page.get_by_text("Infusion stopped. Recovery has begun.")).to_be_visible()

    # -- recovery (its thirty minutes pass: the session's clock moves back) ----------------
    shell(
        live_clinic,
        "from datetime import timedelta\n"
        "from neuroclinic.audit.tests.helpers import unguarded_update\n"
        "from neuroclinic.infusions.models import InfusionSession\n"
        f"s = InfusionSession.objects.get(uuid='{ref}')\n"
        "unguarded_update(InfusionSession.objects.filter(pk=s.pk), ended_at=s.ended_at - timedelta(minutes=31))\n"
        "print('ok')",
    )
    monitor_sends(live_clinic, ref, monitor)
    # No reload: the steps refresh themselves (polled) when the session changes, here the
    # minutes of recovery passing the protocol's minimum.
    expect(page.locator("#recovery")).to_contain_text(
        re.compile(r"\b3\d of \d+ minutes of recovery"), timeout=15000
    )
    document(page, "infusion-4-recovery")
    recovery = page.locator("form.aldrete-form")
    nurse.choose(recovery.get_by_label("MOAA/S"), "5", "MOAA/S 5")
    nurse.tap(
        recovery.get_by_role("button", name="Record recovery score"),
        "Record recovery score",
    )
    expect(page.locator(".message-success")).to_contain_text("discharge criteria met")
    document(page, "infusion-5-discharge")

    # -- discharge (escort and paper instructions filled in), then the note --------------
    nurse.tap(
        page.locator("form.discharge-form").get_by_role("button", name="Discharge"),
        "Discharge",
    )
    expect(page.locator(".message-success")).to_contain_text("Discharged")
    document(page, "infusion-7-note")
    note = page.locator("#note")
    nurse.type(
        note.get_by_label("Your password (signs the note)"),
        DEMO_PASSWORD,
        "password to sign",
    )
    nurse.tap(note.get_by_role("button", name="Sign and lock the note"), "Sign note")
    expect(page.get_by_text("Note signed and locked.")).to_be_visible()
    document(page, "infusion-8-signed")

    counted = (
        f"Routine infusion: {len(nurse.taps)} taps ({', '.join(nurse.taps)}); "
        f"{len(nurse.typed)} typed fields ({', '.join(nurse.typed)})\n"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "infusion-taps.txt").write_text(counted)
    sys.stdout.write("\n" + counted)
    assert len(nurse.taps) <= MAX_TAPS, nurse.taps
    assert len(nurse.typed) <= MAX_TYPED, nurse.typed
