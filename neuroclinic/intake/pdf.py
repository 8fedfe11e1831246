"""PDFs made with WeasyPrint: the signed consent and the clearance-request letter.

WeasyPrint loads Pango when imported, so it is imported only when a PDF is made.
"""

import base64
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
)
from neuroclinic.lib.safe_markdown import render_markdown
from neuroclinic.patients.models import Patient


def _zone(organization_id: int) -> ZoneInfo:
    location = (
        Location.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("id")
        .first()
    )
    return ZoneInfo(location.time_zone if location else "America/New_York")


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads pango: only when needed

    result: bytes = HTML(string=html).write_pdf()
    return result


def signed_consent(
    signature: ConsentSignature,
    *,
    document: ConsentDocument,
    patient: Patient,
    signature_png: bytes,
) -> bytes:
    zone = _zone(patient.organization_id)
    html = render_to_string(
        "intake/pdf/consent.html",
        {
            "signature": signature,
            "document": document,
            "patient": patient,
            "organization": patient.organization,
            "body": render_markdown(document.body),
            "signature_data": "data:image/png;base64,"
            + base64.b64encode(signature_png).decode(),
            "signed_at_local": signature.signed_at.astimezone(zone),
            "zone": str(zone),
        },
    )
    return _pdf(html)


def clearance_letter(
    decision: EligibilityDecision, *, patient: Patient, prescriber: User
) -> bytes:
    zone = _zone(patient.organization_id)
    html = render_to_string(
        "intake/pdf/clearance_letter.html",
        {
            "decision": decision,
            "patient": patient,
            "prescriber": prescriber,
            "organization": patient.organization,
            "date": timezone.now().astimezone(zone).date(),
            "reasons": [
                f
                for f in decision.findings
                if f["severity"] in ("exclusion", "caution")
                and f["action"] == "clearance"
            ],
        },
    )
    return _pdf(html)
