"""The signed infusion note as PDF (WeasyPrint, imported only when a PDF is made).

The note's text is the signed text (`InfusionNote.body`, pinned by its SHA-256);
the PDF adds the clinic's name, the signature, the co-signature and the addenda, in
that order. Nothing in it depends on the time it is made, so the same note makes
the same bytes every time (the FHIR server's `Attachment.hash` relies on it).
"""

import logging

from django.template.loader import render_to_string

from neuroclinic.infusions.models import InfusionNote

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def note_html(note: InfusionNote) -> str:
    return render_to_string(
        "infusions/pdf/note.html",
        {
            "note": note,
            "organization": note.session.patient.organization,
            "addenda": list(note.addenda.select_related("added_by")),
        },
    )


def note_pdf(note: InfusionNote) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads pango: only when needed

    result: bytes = HTML(string=note_html(note)).write_pdf()
    return result
