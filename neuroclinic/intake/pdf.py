"""PDFs made with WeasyPrint: the signed consent (clearance requests are letters now).

WeasyPrint loads Pango when imported, so it is imported only when a PDF is made.
"""

import base64
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string

from neuroclinic.clinics.models import Location
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
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


_local = threading.local()


def _url_fetcher() -> Any:
    """One URL fetcher per thread, allowed only `data:` URLs (the drawn signature).

    WeasyPrint otherwise builds a new fetcher for each PDF, and with it an HTTPS
    context that reads the system's certificates (about 0.15 s of CPU per PDF,
    a consent signed for each of the demo's patients); these PDFs need nothing
    from the network or the disk, so nothing else is fetched.
    """
    fetcher = getattr(_local, "fetcher", None)
    if fetcher is None:
        from weasyprint import URLFetcher  # type: ignore[import-untyped]

        fetcher = _local.fetcher = URLFetcher(allowed_protocols={"data"})
    return fetcher


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # loads pango: only when needed

    result: bytes = HTML(string=html, url_fetcher=_url_fetcher()).write_pdf()
    return result


# Fewer PDFs than this are rendered here, one after another: starting worker
# processes costs more than it saves.
PARALLEL_FROM = 4


def render_all(htmls: Sequence[str]) -> list[bytes]:
    """Each page's PDF, in order: side by side in worker processes when there are
    several and more than one CPU (a batch of signatures, `consents.sign_consents`).

    A render is pure CPU (WeasyPrint, nothing fetched), about 0.1 s each, and its
    bytes do not depend on the process that made them (no dates or random ids
    beyond what the page prints). The workers are forked (Linux, and only from a
    process with one thread, such as the `demo` command), so they start with
    WeasyPrint loaded; they only render, and never touch the database connection
    they inherit. Elsewhere (a web worker, a test run) they render here, in turn.
    """
    cpus = os.cpu_count() or 1
    if (
        len(htmls) < PARALLEL_FROM
        or cpus < 2
        or sys.platform != "linux"
        # A fork copies one thread: a lock another Python thread holds (logging,
        # a driver's) would stay held in the child, so only a process with one
        # Python thread forks. Native threads of libraries (the demo process has
        # jemalloc's background thread) are not counted: Python warns about them
        # too, but the workers only render.
        or threading.active_count() > 1
    ):
        return [_pdf(html) for html in htmls]
    with ProcessPoolExecutor(
        max_workers=min(cpus, len(htmls)),
        mp_context=multiprocessing.get_context("fork"),
    ) as pool:
        return list(pool.map(_pdf, htmls))


def signed_consent_html(
    signature: ConsentSignature,
    *,
    document: ConsentDocument,
    patient: Patient,
    signature_png: bytes,
) -> str:
    """The signed consent's page, which `_pdf` renders."""
    zone = _zone(patient.organization_id)
    return render_to_string(
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


def signed_consent(
    signature: ConsentSignature,
    *,
    document: ConsentDocument,
    patient: Patient,
    signature_png: bytes,
) -> bytes:
    return _pdf(
        signed_consent_html(
            signature, document=document, patient=patient, signature_png=signature_png
        )
    )
