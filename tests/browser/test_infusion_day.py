"""A whole infusion day on the nurse's tablet, in a real browser, for demo patients.

The checklist refuses a patient whose ketamine consent is out of date (a hard stop),
then a second patient goes through every step: checklist, today's PHQ-9, weight,
dose, the ledger draw, start, vitals with an alarm (acknowledged), a dropped
connection that keeps what the nurse typed, nausea treated with ondansetron, stop,
recovery and discharge, the witnessed waste, and the signed note that the prescriber
co-signs. The nurse-station board is checked along the way.
"""

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import DEMO_ZONE, LiveClinic, screenshot

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo-clinic-2026"
ZONE = ZoneInfo(DEMO_ZONE)  # the demo clinic's locations in this run


def fresh_code(clinic: LiveClinic, username: str) -> str:
    """A code the server has not accepted from this user yet (LiveClinic.totp)."""
    return clinic.totp(username)


def sign_in(page: Page, clinic: LiveClinic, username: str) -> None:
    page.goto(clinic.url + "/accounts/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("Code from your authenticator app")).fill(
        fresh_code(clinic, username)
    )
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def demo_patients(clinic: LiveClinic) -> dict[str, str]:
    """MRNs of the demo's patient due an infusion today and of the one whose consent changed."""
    code = """
import json
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.treatment.actions.orders import active_order
from neuroclinic.treatment.actions.plans import consent_block
from neuroclinic.treatment.models import TreatmentPlan
found = {}
for plan in TreatmentPlan.objects.filter(status="active").select_related("patient").order_by("pk"):
    p = plan.patient
    if InfusionSession.objects.filter(patient=p, status__in=InfusionSession.OPEN_STATUSES).exists():
        continue
    if active_order(plan, "induction") is None:
        continue
    # Mid-series, as the infusion demo leaves its patients: not the scheduling demo's
    # patient whose series has not begun (the calendar journey's to book; when that
    # journey has not run first, it was taken for the patient due today).
    if not InfusionSession.objects.filter(patient=p).exclude(status=InfusionSession.Status.CANCELLED).exists():
        continue
    key = "consent_pending" if consent_block(p) else "ready"
    found.setdefault(key, p.mrn)
print(json.dumps(found))
"""
    output = clinic.manage("shell", "-c", code)
    found: dict[str, str] = json.loads(output.strip().splitlines()[-1])
    return found


def ran_for(clinic: LiveClinic, session_url: str, minutes: int) -> None:
    ref = session_url.rstrip("/").split("/")[-1]
    clinic.manage(
        "shell",
        "-c",
        "from neuroclinic.infusions.models import InfusionSession\n"
        "from neuroclinic.infusions.tests.factories import ran_for\n"
        f"ran_for(InfusionSession.objects.get(uuid='{ref}'), {minutes})\n",
    )


def open_chart(page: Page, mrn: str) -> None:
    search = page.get_by_role("searchbox", name="Find a patient")
    search.fill(mrn)
    page.locator("#global-search-results a").first.click()
    expect(page.locator(".chart-facts")).to_contain_text(mrn)


def check_in(page: Page, room: str) -> None:
    panel = page.locator(".treatment-panel")
    panel.get_by_label("Check in for an infusion in").select_option(label=room)
    panel.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("heading", name="1. Checklist")).to_be_visible()


def item(page: Page, label: str) -> Locator:
    return page.locator(".checklist li", has_text=label)


def local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def type_vitals(
    page: Page, systolic: str, diastolic: str, heart: str, spo2: str, rr: str
) -> None:
    # With readings on the screen, typing them by hand is one tap away (the stepper).
    if page.locator("#vitals details").get_attribute("open") is None:
        page.locator("#vitals summary").click()
    form = page.locator("form.vitals-form")
    form.get_by_label("Systolic").fill(systolic)
    form.get_by_label("Diastolic").fill(diastolic)
    form.get_by_label("Heart rate").fill(heart)
    form.get_by_label("SpO2 %").fill(spo2)
    form.get_by_label("Resp. rate").fill(rr)
    form.get_by_role("button", name="Record vitals").click()


def test_a_full_infusion_day_on_the_tablet(
    page: Page, browser: Browser, live_clinic: LiveClinic
) -> None:
    patients = demo_patients(live_clinic)
    assert set(patients) == {"ready", "consent_pending"}, patients
    sign_in(page, live_clinic, "nurse")

    # -- the checklist will not let an infusion start without current consent ---------
    open_chart(page, patients["consent_pending"])
    check_in(page, "Lakeside Main (demo) · Infusion 2")
    consent = page.locator(".checklist li", has_text="Consent current")
    expect(consent).to_have_class(re.compile(r"\bstop\b"))
    expect(consent).to_contain_text("Hard stop")
    expect(consent).to_contain_text("version 2 needs signing")
    expect(page.get_by_role("button", name="Confirm checklist")).to_be_disabled()
    expect(
        page.get_by_role("button", name=re.compile("Start infusion"))
    ).to_be_disabled()
    screenshot(page, "infusion-hard-stop-consent")
    page.locator("details.cancel summary").click()
    page.get_by_label("Why cancel").fill(
        "Consent form changed: patient to re-sign first"
    )
    page.get_by_role("button", name="Cancel infusion").click()
    expect(page.get_by_text("Infusion cancelled.")).to_be_visible()

    # -- the patient due today: checklist -----------------------------------------------
    open_chart(page, patients["ready"])
    expect(page.locator(".treatment-panel")).to_contain_text("2 of 6")
    check_in(page, "Lakeside Main (demo) · Infusion 1")
    session_url = page.url
    expect(page.locator(".progress-tag")).to_have_text("Infusion 3 of 6")
    screenshot(page, "infusion-checklist-start")

    now = datetime.now(tz=ZONE)
    form = page.locator("form.checklist-form")
    form.get_by_label("Today's weight").fill("7000")
    form.get_by_role("button", name="Save checklist").click()
    expect(
        page.get_by_text("outside the plausible adult range 30-300 kg")
    ).to_be_visible()
    form = page.locator("form.checklist-form")
    form.get_by_label("Today's weight").fill("176")
    form.get_by_label("Unit").select_option("lb")
    form.get_by_label("Height (cm)").fill("172")
    form.get_by_label("Last solid food").fill(local(now - timedelta(hours=9)))
    form.get_by_label("Last clear liquids").fill(local(now - timedelta(hours=3)))
    form.get_by_label("I confirmed the escort").check()
    form.get_by_label("Pregnancy status").select_option("reported_not_pregnant")
    form.get_by_role("button", name="Save checklist").click()
    expect(page.get_by_text("Checklist saved.")).to_be_visible()
    expect(item(page, "Today's weight")).to_contain_text("79.8 kg")

    type_vitals(page, "400", "20", "72", "98", "14")
    expect(
        page.get_by_text("Systolic BP 400 mmHg is outside the plausible range")
    ).to_be_visible()
    type_vitals(page, "128", "82", "74", "98", "14")
    expect(page.get_by_text("Vital signs recorded.")).to_be_visible()

    phq9 = page.locator(".checklist li", has_text="Today's pre-infusion PHQ-9")
    expect(phq9).to_contain_text("Hard stop")
    phq9.get_by_role("link", name="Enter today's PHQ-9").click()
    items = page.locator("fieldset.q-item")
    for index in range(8):
        items.nth(index).get_by_label("Several days", exact=True).check()
    items.nth(8).get_by_label("Not at all", exact=True).check()
    items.nth(9).get_by_label("Somewhat difficult", exact=True).check()
    page.get_by_role("button", name="Save and score").click()
    expect(page.get_by_text("recorded: 8")).to_be_visible()
    page.goto(session_url)
    expect(page.locator(".checklist li.stop")).to_have_count(0)
    page.get_by_role("button", name="Confirm checklist").click()
    expect(page.get_by_text("every hard stop is clear")).to_be_visible()

    # -- dose and draw ---------------------------------------------------------------------
    dose = page.locator("#dose")
    dose.get_by_label("Vial strength").select_option("50")
    dose.get_by_role("button", name="Calculate dose").click()
    expect(page.get_by_text("Dose calculated: 39.9 mg at 151.2 mL/h.")).to_be_visible()
    expect(page.locator(".dose-result")).to_contain_text("0.80 mL")
    draw = page.locator("#draw")
    # An opened vial is offered first.
    expect(draw.get_by_label("Vial")).to_contain_text("(opened)")
    draw.get_by_label("Volume drawn (mL)").fill("1.00")
    draw.get_by_role("button", name="Record draw").click()
    expect(page.get_by_text("Drew 1.00 mL (recorded in the ledger).")).to_be_visible()
    screenshot(page, "infusion-dose-drawn")

    # -- start, vitals with an alarm -------------------------------------------------------
    page.get_by_role(
        "button", name=re.compile(r"Start infusion at 151\.2 mL\/h")
    ).click()
    expect(page.get_by_text("Infusion started.")).to_be_visible()
    expect(page.locator(".status-label")).to_have_text("Infusing")

    board = browser.new_context(
        viewport={"width": 1600, "height": 1000},
        storage_state=page.context.storage_state(),
    )
    station = board.new_page()
    station.goto(live_clinic.url + "/infusions/board/")
    room = station.locator(".room-card", has_text="Infusion 1")
    expect(room).to_contain_text("Infusing")

    type_vitals(page, "134", "86", "88", "88", "12")
    alarm = page.locator(".alarm-banner .alarm").first
    expect(alarm).to_contain_text("CRITICAL")
    expect(alarm).to_contain_text("SpO2 88% is below 90%")
    expect(alarm).to_contain_text("Stop the infusion; support the airway")
    # The board shows it within two seconds, without a reload.
    expect(room).to_contain_text("CRITICAL ALARM", timeout=2500)
    expect(room.locator("dd").nth(2)).to_have_text("88")
    screenshot(page, "infusion-alarm-tablet")
    screenshot(station, "infusion-board-alarm")
    alarm.get_by_label("What you did").fill(
        "Repositioned the probe; oxygen 2 L; SpO2 back to 97"
    )
    alarm.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Alarm acknowledged")).to_be_visible()
    expect(page.locator(".alarm-banner")).to_have_count(0)
    type_vitals(page, "132", "84", "82", "97", "14")
    expect(page.get_by_text("Vital signs recorded.")).to_be_visible()
    expect(room).not_to_contain_text("CRITICAL", timeout=2500)

    # -- the connection drops: what the nurse types is kept and sent when it is back -----
    tablet = browser.new_context(storage_state=page.context.storage_state())
    second = tablet.new_page()
    second.goto(session_url)
    tablet.set_offline(True)
    type_vitals(second, "136", "88", "80", "96", "15")
    expect(second.locator("#offline-queue")).to_contain_text(
        "1 entry saved on this tablet"
    )
    expect(second.locator("#connection")).to_contain_text("Offline")
    screenshot(second, "infusion-offline-saved")
    tablet.set_offline(False)
    expect(second.get_by_text("Sent what was saved on this tablet.")).to_be_visible(
        timeout=15000
    )
    expect(second.locator(".vitals-now")).to_contain_text("136/88")
    tablet.close()

    # -- nausea treated with ondansetron -----------------------------------------------
    page.reload()
    page.locator(
        "#events summary"
    ).click()  # collapsed until something is recorded there
    events = page.locator("#events")
    events.get_by_label("What").select_option("nausea")
    events.get_by_label("Moderate").check()
    events.get_by_label("Description").fill("Nauseated, no vomiting")
    events.get_by_role("button", name="Record event").click()
    expect(page.get_by_text("Nausea (moderate) recorded.")).to_be_visible()
    events = page.locator("#events")
    events.get_by_label("Medication (as ordered)").select_option(
        label="Ondansetron 4 mg IV — Nausea or vomiting"
    )
    events.get_by_label("For event").select_option(index=1)
    events.get_by_role("button", name="Record given").click()
    expect(page.get_by_text("Ondansetron 4 mg IV given.")).to_be_visible()
    page.locator("input[name='sedation-score'][value='4']").check()
    page.get_by_role("button", name="Record MOAA/S").click()
    expect(page.get_by_text("MOAA/S 4 recorded.")).to_be_visible()
    screenshot(page, "infusion-running")

    # -- stop ----------------------------------------------------------------------------
    # The pump ran its 40 minutes ("completed as ordered" must be plausible): a test
    # cannot wait, so the session's clock moves back.
    ran_for(live_clinic, session_url, 40)
    stop = page.locator("form.stop-form")
    stop.get_by_label("Completed as ordered").check()
    stop.get_by_label("Volume infused (mL, from the pump)").fill("100.80")
    stop.get_by_role("button", name="Stop infusion").click()
    expect(page.get_by_text("Infusion stopped. Recovery has begun.")).to_be_visible()
    # 0.80 mL of 50 mg/mL is what the syringe measures: 40 mg (the calculator said so).
    expect(page.locator("#recovery")).to_contain_text("40.00 mg = 0.501 mg/kg given")

    # The protocol's 30 minutes of recovery pass (the clock of this session moves back).
    session_id = session_url.rstrip("/").rsplit("/", 1)[-1]
    live_clinic.manage(
        "shell",
        "-c",
        "from datetime import timedelta\n"
        "from neuroclinic.audit.tests.helpers import unguarded_update\n"
        "from neuroclinic.infusions.models import InfusionSession\n"
        f"s = InfusionSession.objects.get(uuid='{session_id}')\n"
        "unguarded_update(InfusionSession.objects.filter(pk=s.pk), ended_at=s.ended_at - timedelta(minutes=31))",
    )
    page.reload()
    recovery = page.locator("form.aldrete-form")
    for item_name in (
        "activity",
        "respiration",
        "circulation",
        "consciousness",
        "spo2",
    ):
        recovery.locator(f"input[name='recovery-{item_name}'][value='2']").check()
    recovery.get_by_label("MOAA/S").select_option("5")
    recovery.get_by_role("button", name="Record recovery score").click()
    expect(
        page.get_by_text("Modified Aldrete 10/10: discharge criteria met.")
    ).to_be_visible()

    # -- discharge with instructions -----------------------------------------------------
    pdf = page.request.get(session_url + "instructions.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    discharge = page.locator("form.discharge-form")
    expect(discharge.get_by_label("Escort taking the patient home")).not_to_be_empty()
    discharge.get_by_label("On paper (print the PDF)").check()
    discharge.get_by_role("button", name="Discharge").click()
    expect(page.get_by_text("Discharged. Waste what remains")).to_be_visible()

    # -- waste with a witness, then the note ----------------------------------------------
    waste = page.locator("#waste")
    expect(waste).to_contain_text("0.20 mL")
    waste.locator("#id_waste-witness").select_option(label="Dana Directorova, MD")
    waste.locator("#id_waste-witness_password").fill(DEMO_PASSWORD)
    waste.locator("#id_waste-witness_code").fill(fresh_code(live_clinic, "director"))
    waste.get_by_role("button", name="Waste with witness").click()
    expect(
        page.get_by_text("Wasted 0.20 mL, witnessed by Dana Directorova, MD.")
    ).to_be_visible()
    note = page.locator("#note")
    expect(note).to_contain_text("ketamine given 40 mg = 0.501 mg/kg")
    expect(note).to_contain_text("Ondansetron 4 mg IV given by Noah Nursewell, RN")
    expect(note).to_contain_text("SpO2 88% is below 90% on 1 reading; acknowledged")
    note.get_by_label("Your password (signs the note)").fill(DEMO_PASSWORD)
    note.get_by_role("button", name="Sign and lock the note").click()
    expect(page.get_by_text("Note signed and locked.")).to_be_visible()
    expect(page.locator("#note")).to_contain_text(
        "awaiting the prescriber's co-signature"
    )
    screenshot(page, "infusion-note-signed")
    expect(room).to_contain_text("Free", timeout=2500)
    board.close()

    # -- the prescriber co-signs ---------------------------------------------------------
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_clinic, "prescriber")
    page.goto(session_url)
    note = page.locator("#note")
    note.get_by_label("Your password (signs the note)").fill(DEMO_PASSWORD)
    note.get_by_role("button", name="Co-sign").click()
    expect(page.get_by_text("Note co-signed.")).to_be_visible()
    expect(page.locator("#note")).to_contain_text("co-signed by Priya Prescottia, MD")
    page.goto(live_clinic.url + "/infusions/")
    expect(page.locator("table")).to_contain_text("Closed (note signed)")
    screenshot(page, "infusion-day-report")
