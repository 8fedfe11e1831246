"""Issue 12's "done when", in a real browser on the demo clinic.

Billing sells a patient an induction package with its deposit and gives the good-faith
estimate; the infusion the demo left for the front desk is invoiced from its charted
times (96365 for the first hour, 96366 for a further one), the deposit is applied and a
card payment closes it; the superbill PDF downloads with the NPIs, codes and totals.
Then the prescriber drafts an end-of-series letter, which carries the PHQ-9 trajectory
chart, signs it with their password and emails it: the email holds a link, not the PDF,
and the link opens the signed letter for the recipient without signing in.
"""

import email
import json
import re
import time
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveClinic, screenshot
from tests.browser.test_infusion_day import (
    DEMO_PASSWORD,
    ZONE,
    sign_in,
)
from tests.pdf_text import pdf_text, squeezed

pytestmark = pytest.mark.browser

RECIPIENT_EMAIL = "dr.lettersworth@example.com"
PACKAGE = "Induction series of six infusions"


def open_chart(page: Page, mrn: str) -> None:
    search = page.get_by_role("searchbox", name="Find a patient")
    search.fill(mrn)
    page.locator("#global-search-results a").first.click()
    expect(page.locator(".chart-facts")).to_contain_text(mrn)


SETUP = """
import json
from datetime import timedelta
from django.db.models import Count, Q
from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.billing.models import Invoice, PackageSale, RenderingProvider, BillingIdentity
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient

# The infusion the billing demo left for the front desk: make it a 100-minute one.
invoiced = Invoice.objects.filter(session_ref__isnull=False).values("session_ref")
[waiting] = InfusionSession.objects.filter(
    status__in=("discharged", "closed"), started_at__isnull=False
).exclude(uuid__in=invoiced).select_related("patient", "order")
assert not PackageSale.objects.filter(patient=waiting.patient).exists()
ran = waiting.ended_at - waiting.started_at
back = timedelta(minutes=100) - ran
unguarded_update(
    InfusionSession.objects.filter(pk=waiting.pk),
    started_at=waiting.started_at - back,
    checked_in_at=waiting.checked_in_at - back,
)
rendering = RenderingProvider.objects.filter(user=waiting.order.signed_by).latest("created_at")
identity = BillingIdentity.objects.latest("created_at")

# A patient whose series is complete, with a referring provider who takes email.
given = Q(infusion_sessions__status__in=("discharged", "closed"))
done = (
    Patient.objects.annotate(given=Count("infusion_sessions", filter=given))
    .filter(given__gte=6)
    .exclude(pk=waiting.patient_id)
    .order_by("id")
    .first()
)
patient_actions.add_care_team_provider(
    done,
    by=User.objects.get(username="frontdesk"),
    role=CareTeamProvider.Role.REFERRING,
    name="Dr Lettersworth (demo)",
    practice="Example Psychiatry",
    email="%s",
)
print(json.dumps({
    "billing_mrn": waiting.patient.mrn,
    "rendering_npi": rendering.npi,
    "organization_npi": identity.organization_npi,
    "letter_mrn": done.mrn,
    "letter_patient": done.legal_name,
}))
"""


def test_billing_and_letters_journey(
    page: Page, browser: Browser, live_clinic: LiveClinic
) -> None:
    output = live_clinic.manage("shell", "-c", SETUP % RECIPIENT_EMAIL)
    facts = json.loads(output.strip().splitlines()[-1])
    today = datetime.now(tz=ZONE).date()

    # -- billing: the package with its deposit, and the good-faith estimate ---------------
    sign_in(page, live_clinic, "billing")
    open_chart(page, facts["billing_mrn"])
    page.get_by_role("link", name="Billing account").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Billing")
    page.locator("summary", has_text="Sell a package").click()
    sell = page.locator("form[action$='/packages']")
    sell.locator("select[name='package']").select_option(label=PACKAGE)
    sell.get_by_label("Method").select_option("card")
    sell.get_by_label("Terminal, check or financing reference").fill("TERM-4411")
    sell.get_by_role("button", name="Sell and take the deposit").click()
    expect(page.locator("p", has_text="Credit on account")).to_contain_text("500.00")
    expect(page.locator("table").first).to_contain_text(PACKAGE)

    page.locator("summary", has_text="Give an estimate").click()
    estimate = page.locator("form[action$='/estimates']")
    estimate.locator("select[name='package']").select_option(label=PACKAGE)
    estimate.get_by_label("Booked on").fill(today.isoformat())
    estimate.get_by_label("First service on").fill(
        (today + timedelta(days=14)).isoformat()
    )
    estimate.get_by_role("button", name="Give the estimate").click()
    row = page.locator("tr", has_text="2550.00 USD").first
    expect(row).to_be_visible()
    expect(row).not_to_contain_text("late")
    given = page.request.get(
        live_clinic.url
        + (row.get_by_role("link", name="PDF").get_attribute("href") or "")
    )
    assert given.headers["content-type"] == "application/pdf"
    gfe = squeezed(pdf_text(given.body()))
    assert "GoodFaithEstimate" in gfe
    assert "Total expected charges (USD) 2550.00".replace(" ", "") in gfe
    assert "dispute" in gfe.lower()
    screenshot(page, "billing-package-and-estimate")

    # -- the demo's infusion, invoiced from its charted 100 minutes -----------------------
    waiting = page.locator("h2:has-text('Infusions not yet invoiced') + ul li")
    expect(waiting).to_have_count(1)
    waiting.get_by_role("button", name="Invoice").click()
    invoice_row = page.locator("tr", has_text="package").filter(
        has=page.get_by_role("link", name=re.compile("Invoice PDF"))
    )
    expect(invoice_row).to_have_count(1)
    href = invoice_row.get_by_role("link", name="Invoice PDF").get_attribute("href")
    assert href is not None
    invoice_uuid = href.rsplit("/", 1)[-1].removesuffix(".pdf")
    invoice = pdf_text(page.request.get(live_clinic.url + href).body())
    # 100 minutes: 96365 x 1 for the first hour (the package's share, 2550.00 / 6),
    # 96366 x 1 for the further 40 minutes (more than 30 past the hour).
    assert re.search(r"96365 1 425\.00 425\.00", invoice), invoice
    assert re.search(r"96366 1 150\.00 150\.00", invoice), invoice
    assert "96374" not in invoice
    total = re.search(r"Total \(USD\) ([\d.]+)", invoice)
    assert total is not None, invoice
    due = f"{float(total.group(1)) - 500:.2f}"  # the deposit went onto it
    assert float(due) >= 75
    cells = invoice_row.locator("td")
    expect(cells.nth(2)).to_have_text(total.group(1))
    expect(cells.nth(4)).to_have_text(due)

    pay = page.locator(f"form[action$='/invoices/{invoice_uuid}/payments']")
    expect(pay.get_by_label("Amount")).to_have_value(due)
    pay.get_by_label("Method").select_option("card")
    pay.get_by_label("Reference").fill("TERM-4412")
    pay.get_by_role("button", name="Take payment").click()
    paid_row = page.locator("tr", has=page.get_by_role("link", name="Receipt PDF"))
    expect(paid_row.filter(has_text="package")).to_have_count(1)
    expect(paid_row.filter(has_text="package").locator("td").nth(4)).to_have_text(
        "0.00"
    )
    expect(
        page.locator(f"form[action$='/invoices/{invoice_uuid}/payments']")
    ).to_have_count(0)

    # -- the superbill PDF downloads with the NPIs, codes and totals ----------------------
    paid_row.filter(has_text="package").get_by_role("button", name="Superbill").click()
    superbills = page.locator("h2:has-text('Superbills') + ul")
    expect(superbills).to_contain_text(today.isoformat())
    with page.expect_download() as download_info:
        superbills.get_by_role("link", name="PDF").first.click()
    download = download_info.value
    path = download.path()
    assert path is not None
    superbill = pdf_text(path.read_bytes())
    flat = squeezed(superbill)
    assert f"RenderingNPI{facts['rendering_npi']}" in flat
    assert f"OrganizationNPI{facts['organization_npi']}" in flat
    for code in ("96365", "96366", "J3490"):
        assert code in superbill
    assert f"Totalcharged(USD){total.group(1)}" in flat
    assert f"Totalpaid{total.group(1)}" in flat
    assert "Balance0.00" in flat
    assert "Paidinfull" in flat
    screenshot(page, "billing-paid-with-superbill")
    page.get_by_role("button", name="Sign out").click()

    # -- the prescriber's end-of-series letter, with the chart, signed and emailed --------
    sign_in(page, live_clinic, "prescriber")
    open_chart(page, facts["letter_mrn"])
    page.get_by_role("link", name="Letters", exact=True).click()
    page.get_by_label("Kind").select_option("end_of_series")
    page.get_by_label("Recipient").select_option(
        label="Dr Lettersworth (demo) (Referring provider)"
    )
    page.get_by_role("button", name="Draft from the chart").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dr Lettersworth")
    chart = page.locator("article.letter svg.trajectory")
    expect(chart).to_be_visible()
    expect(chart.locator("circle.trajectory-point").first).to_be_attached()
    draft_pdf = page.request.get(
        live_clinic.url
        + (page.get_by_role("link", name="PDF", exact=True).get_attribute("href") or "")
    )
    assert "(PHQ-9)overtime" in squeezed(pdf_text(draft_pdf.body()))
    page.get_by_label("Your password (signs the letter)").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text(re.compile(r"^Signed by Priya Prescottia"))).to_be_visible()
    page.get_by_label("Channel").select_option("email")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("li", has_text=RECIPIENT_EMAIL)).to_contain_text("Email")
    screenshot(page, "letter-signed-and-emailed")

    # The console email: a link, no attachment, no patient's name.
    deadline = time.monotonic() + 10
    while (
        RECIPIENT_EMAIL not in live_clinic.sent_mail() and time.monotonic() < deadline
    ):
        time.sleep(0.5)
    # The console backend writes each message's MIME text, then a line of dashes.
    [raw] = [
        block
        for block in live_clinic.sent_mail().split("-" * 79)
        if f"To: {RECIPIENT_EMAIL}" in block
    ]
    message = email.message_from_string(raw.strip())
    assert not message.is_multipart()  # one text part: nothing attached
    assert "application/pdf" not in raw
    assert "attachment" not in raw.lower()
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode()
    link = re.search(r"(http://127\.0\.0\.1:\d+/letters/link/\S+/)", text)
    assert link is not None, text
    assert facts["letter_patient"] not in text
    assert facts["letter_patient"] not in link.group(1)

    # The recipient opens the link without signing in: the signed letter, with its chart.
    recipient = browser.new_context()
    opened = recipient.request.get(link.group(1))
    assert opened.status == 200
    assert opened.headers["content-type"] == "application/pdf"
    letter = squeezed(pdf_text(opened.body()))
    assert "(PHQ-9)overtime" in letter
    assert "ElectronicallysignedbyPriyaPrescottia" in letter
    assert "DRAFT" not in letter
    recipient.close()
