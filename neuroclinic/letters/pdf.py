"""The letter as PDF on the clinic's letterhead (WeasyPrint, imported only when a PDF is made)."""

import logging

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from neuroclinic.letters.chart import letter_chart
from neuroclinic.letters.models import Letter
from neuroclinic.lib.safe_markdown import render_markdown

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def letter_html(letter: Letter) -> str:
    return render_to_string(
        "letters/pdf/letter.html",
        {
            "letter": letter,
            "organization": letter.patient.organization,
            "body": render_markdown(letter.body),
            # Built by measures.trajectory, which escapes every piece of text in it.
            "chart": mark_safe(letter_chart(letter)),  # noqa: S308
        },
    )


def letter_pdf(letter: Letter) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads pango: only when needed

    result: bytes = HTML(string=letter_html(letter)).write_pdf()
    return result
