"""PDFs of estimates, invoices (with receipts), superbills and statements, made with WeasyPrint; the superbill CSV.

Each is made from the record as given (the estimate's and the superbill's
snapshot), so a reprint is identical. WeasyPrint loads Pango when imported,
so it is imported only when a PDF is made.
"""

import csv
import io
import logging

from django.template.loader import render_to_string

from neuroclinic.billing.accounting import invoice_balance
from neuroclinic.billing.actions.common import identity_of
from neuroclinic.billing.models import GoodFaithEstimate, Invoice, Statement, Superbill

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads pango: only when needed

    result: bytes = HTML(string=html).write_pdf()
    return result


def estimate_html(estimate: GoodFaithEstimate) -> str:
    return render_to_string(
        "billing/pdf/estimate.html", {"estimate": estimate, "c": estimate.content}
    )


def estimate_pdf(estimate: GoodFaithEstimate) -> bytes:
    return _pdf(estimate_html(estimate))


def superbill_html(superbill: Superbill) -> str:
    return render_to_string(
        "billing/pdf/superbill.html", {"superbill": superbill, "c": superbill.content}
    )


def superbill_pdf(superbill: Superbill) -> bytes:
    return _pdf(superbill_html(superbill))


def statement_html(statement: Statement) -> str:
    return render_to_string(
        "billing/pdf/statement.html", {"statement": statement, "c": statement.content}
    )


def statement_pdf(statement: Statement) -> bytes:
    return _pdf(statement_html(statement))


def invoice_pdf(invoice: Invoice) -> bytes:
    html = render_to_string(
        "billing/pdf/invoice.html",
        {
            "invoice": invoice,
            "identity": identity_of(invoice.organization_id),
            "lines": invoice.lines.all(),
            "payments": invoice.payments.all(),
            "balance": invoice_balance(invoice),
        },
    )
    return _pdf(html)


SUPERBILL_CSV_COLUMNS = (
    "date_of_service",
    "place_of_service",
    "code",
    "modifiers",
    "units",
    "diagnosis_pointers",
    "diagnosis_codes",
    "fee",
    "rendering_npi",
    "tax_id",
    "patient_name",
    "patient_birth_date",
)


def _cell(value: object) -> str:
    """A spreadsheet never runs a cell as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def superbill_csv(superbill: Superbill) -> str:
    c = superbill.content
    codes = {d["pointer"]: d["code"] for d in c["diagnoses"]}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SUPERBILL_CSV_COLUMNS)
    for line in c["lines"]:
        writer.writerow(
            _cell(v)
            for v in (
                line["date"],
                line["place_of_service"],
                line["code"],
                line["modifiers"],
                line["units"],
                line["pointers"],
                " ".join(codes[p] for p in line["pointers"].split(",")),
                line["fee"],
                line["npi"],
                c["provider"]["tax_id"],
                c["patient"]["name"],
                c["patient"]["birth_date"],
            )
        )
    return out.getvalue()
