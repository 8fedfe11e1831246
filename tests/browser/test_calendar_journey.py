"""The clinic's calendar in a real browser, for a demo patient (issue 9's "Done when").

The front desk books an induction series for the demo's eligible, consented patient
whose series has not begun, in one flow: proposal, one visit adjusted, confirmed. The
reminder that goes out carries the day's instructions and the .ics (the email backend is
swapped for Django's in-memory one in the shell that runs the reminder task, so the test
reads the message the console would print). The patient, on a 390 px phone, confirms the
first visit from the reminder's link and asks to move the second. The nurse checks the
patient in from the calendar and the infusion session opens.

The first visit must fall today for the check-in: the set-up makes today a working day at
the annex (the test may run on a weekend), so the series is proposed from today; the
browser run puts the demo's sites in a zone where it is mid-morning (conftest's
`mid_morning_zone`), since after about 22:00 no infusion fits today any more.
"""

import json
import re
from email import message_from_string
from email.message import Message

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.conftest import LiveClinic, screenshot
from tests.browser.test_infusion_day import sign_in

pytestmark = pytest.mark.browser

SETUP = """
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo
from django.utils import timezone
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import OpeningHours
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.scheduling.actions import setup
from neuroclinic.scheduling.models import Appointment, StaffShift
from neuroclinic.treatment.actions.orders import active_order
from neuroclinic.treatment.actions.plans import intake_blocks
from neuroclinic.treatment.models import TreatmentPlan
nurse = User.objects.get(username="nurse")
annex = StaffShift.objects.filter(user=nurse).first().location
ready = None
for plan in TreatmentPlan.objects.filter(status="active").select_related("patient"):
    p = plan.patient
    if (
        active_order(plan, "induction") is not None
        and not plan.induction_dates
        and not intake_blocks(p)
        and p.email
        and not Appointment.objects.filter(plan=plan, appointment_type__code="infusion").exists()
        and not InfusionSession.objects.filter(patient=p, status__in=InfusionSession.OPEN_STATUSES).exists()
    ):
        ready = p
        break
zone = ZoneInfo(annex.time_zone)
today = timezone.now().astimezone(zone).date()
OpeningHours.objects.filter(location=annex, weekday=today.weekday()).delete()
OpeningHours.objects.create(location=annex, weekday=today.weekday(), opens_at=time(0), closes_at=time(23, 59))
admin = User.objects.get(username="admin")
for name in ("nurse", "prescriber"):
    setup.add_shift(
        User.objects.get(username=name), location=annex,
        starts_at=datetime.combine(today, time(0), tzinfo=zone),
        ends_at=datetime.combine(today, time(23, 59), tzinfo=zone), by=admin,
    )
# Rooms where an infusion is still open (the demo's own, or another journey's) are
# closed for the day, so the series' first visit goes where the check-in can happen now.
for room_id in set(InfusionSession.objects.filter(
    location=annex, status__in=InfusionSession.OPEN_STATUSES
).values_list("room_id", flat=True)):
    setup.add_closure(
        annex, room_id=room_id,
        starts_at=datetime.combine(today, time(0), tzinfo=zone),
        ends_at=datetime.combine(today, time(23, 59), tzinfo=zone),
        reason="An infusion is still open in this room (browser test)", by=admin,
    )
print(json.dumps({
    "patient": str(ready.uuid), "mrn": ready.mrn, "email": ready.email,
    "annex": str(annex.uuid), "annex_name": annex.name, "today": today.isoformat(),
}))
"""

REMINDERS = """
import json
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling import messages
from neuroclinic.scheduling.actions import reminders
from neuroclinic.scheduling.models import Appointment
reminders.send_due_reminders()
patient = Patient.objects.get(uuid="{patient}")
visits = list(Appointment.objects.filter(patient=patient, appointment_type__code="infusion").order_by("starts_at"))
print(json.dumps({{
    "links": [messages.visit_url(v) for v in visits],
    "starts": [messages.local_time(v).strftime("%H:%M") for v in visits],
}}))
"""


def console_emails(output: str, to: str) -> list[Message]:
    """The messages Django's console email backend printed (each followed by a rule)."""
    found = []
    for chunk in output.split("-" * 79):
        start = chunk.find("Content-Type:")
        if start < 0:
            continue
        message = message_from_string(chunk[start:].strip() + "\n")
        if to in str(message["To"]):
            found.append(message)
    return found


def _phone(browser: Browser) -> tuple[Page, list[str]]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    phone.on("console", on_console)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    return phone, errors


def test_book_a_series_remind_confirm_and_check_in(
    page: Page, browser: Browser, live_clinic: LiveClinic
) -> None:
    demo = json.loads(live_clinic.manage("shell", "-c", SETUP).splitlines()[-1])

    # -- the front desk: proposal, one visit adjusted, booked --------------------------
    sign_in(page, live_clinic, "frontdesk")
    page.goto(f"{live_clinic.url}/patients/{demo['patient']}/")
    page.get_by_role("link", name="Book an induction series").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Book an induction series"
    )
    page.get_by_label("Location").select_option(label=demo["annex_name"])
    page.get_by_label("First infusion on or after").fill(demo["today"])
    page.get_by_role("button", name="Propose a series").click()
    proposal = page.locator("#proposal")
    expect(proposal.locator("ol.proposal > li")).to_have_count(6)
    expect(proposal).to_contain_text("infusion 1 of 6, week 1")
    first_day = page.get_by_label("Infusion 1 day").input_value()
    assert first_day == demo["today"], "the first infusion is not today"
    # Adjust the last visit: 30 minutes later than proposed (the calendar checks it again).
    last_time = page.get_by_label("Infusion 6 time")
    hours, minutes = map(int, last_time.input_value().split(":"))
    total = hours * 60 + minutes + 30
    adjusted = f"{total // 60:02d}:{total % 60:02d}"
    last_time.fill(adjusted)
    screenshot(page, "calendar-series-proposal")
    page.get_by_role("button", name="Book these 6 infusions").click()
    expect(page.get_by_text("Booked 6 infusions.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calendar")
    expect(page.locator("article.visit", has_text=demo["mrn"])).to_have_count(1)

    # -- the reminder: the instructions and the .ics, nothing clinical in the subject ---
    output = live_clinic.manage(
        "shell", "-c", REMINDERS.format(patient=demo["patient"])
    )
    sent = json.loads(output.splitlines()[-1])
    assert sent["starts"][5] == adjusted  # the adjusted visit was booked as adjusted
    emails = console_emails(output, demo["email"])
    assert emails, "no reminder went to the patient"
    reminder = emails[0]
    subject = str(reminder["Subject"])
    assert not re.search(r"infusion|ketamine|depress", subject, re.I)
    parts = list(reminder.walk())
    body = next(
        str(p.get_payload(decode=True).decode())  # type: ignore[union-attr]
        for p in parts
        if p.get_content_type() == "text/plain" and p.get_filename() is None
    )
    assert "Nothing to eat" in body
    assert "Bring an adult who will take you home" in body
    assert "Do not drive" in body
    link = re.search(r"(http\S+/v/\S+/)", body)
    assert link is not None, body
    assert link.group(1).startswith(live_clinic.url + "/v/")
    (ics_part,) = [p for p in parts if p.get_filename() == "visit.ics"]
    assert ics_part.get_content_type() == "text/calendar"
    ics = ics_part.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "BEGIN:VEVENT" in ics
    assert "DTSTART" in ics
    assert "ketamine" not in ics.lower()

    # -- the patient, on a phone: confirms the first visit, asks to move the second -----
    phone, phone_errors = _phone(browser)
    phone.goto(link.group(1))  # the link in the reminder
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your visit")
    expect(phone.get_by_text("Nothing to eat")).to_be_visible()
    phone.get_by_role("button", name="I will be there").click()
    expect(phone.get_by_text("Status: Confirmed")).to_be_visible()
    phone.goto(sent["links"][1])
    phone.get_by_label(re.compile("Ask to move this visit")).fill(
        "Afternoons suit me better that week (demo)."
    )
    phone.get_by_role("button", name="Ask to move it").click()
    expect(phone.get_by_text("Status: Patient asked to move")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the visit page scrolls sideways on a phone ({width}px)"
    screenshot(phone, "calendar-phone-move-requested")
    phone.context.close()
    assert phone_errors == []

    # -- the nurse checks the patient in; the infusion session opens -------------------
    page.context.clear_cookies()
    sign_in(page, live_clinic, "nurse")
    page.goto(f"{live_clinic.url}/schedule/?location={demo['annex']}")
    visit = page.locator("article.visit", has_text=demo["mrn"])
    expect(visit).to_contain_text("Confirmed")
    visit.get_by_role("button", name="Check in").click()
    page.wait_for_load_state()
    if "/infusions/sessions/" not in page.url:
        screenshot(page, "calendar-check-in-refused")
        messages = page.locator(".messages")
        said = messages.inner_text() if messages.count() else "(no message)"
        pytest.fail(f"check-in did not open the session ({page.url}): {said}")
    expect(page.get_by_text("Checked in: the infusion is open.")).to_be_visible()
    screenshot(page, "calendar-checked-in")
