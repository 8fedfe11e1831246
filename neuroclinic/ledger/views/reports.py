"""Inspection reports (audited) and verifying the chain on demand."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger.actions.report_access import record_report_access
from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.forms import ReportForm
from neuroclinic.ledger.models import LedgerCheck
from neuroclinic.ledger.reports import (
    ReportKind,
    build_report,
)
from neuroclinic.ledger.views.frame import chosen_registrant, render_page
from neuroclinic.lib.replica import replica_reads


@require_capability(Capability.LEDGER_REPORT)
@require_GET
@replica_reads
def reports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pick a report and a date range; print it or download it as CSV. Audited."""
    registrant = chosen_registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    today = local_date(registrant, timezone.now())
    form = ReportForm(
        request.GET
        if "kind" in request.GET
        else {
            "kind": ReportKind.ADMINISTRATIONS.value,
            "start_date": today - timedelta(days=30),
            "end_date": today,
        }
    )
    built = None
    if form.is_valid():
        built = build_report(
            ReportKind(form.cleaned_data["kind"]),
            registrant,
            form.cleaned_data["start_date"],
            form.cleaned_data["end_date"],
        )
        fmt = request.GET.get("format", "")
        record_report_access(
            registrant,
            report=built.kind,
            start_date=built.start_date,
            end_date=built.end_date,
            exported=fmt in ("csv", "print"),
            by=request.user,
            rows=len(built.rows),
        )
        if fmt == "csv":
            response = HttpResponse(
                built.as_csv(), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{built.kind}-{registrant.dea_number}-'
                f'{built.start_date:%Y%m%d}-{built.end_date:%Y%m%d}.csv"'
            )
            return response
        if fmt == "print":
            return render(
                request,
                "ledger/report_print.html",
                {"report": built, "printed_at": timezone.now()},
            )
    return render_page(
        request, "ledger/reports.html", registrant, form=form, report=built
    )


@require_capability(Capability.LEDGER_REPORT)
@require_POST
def run_check_now(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = chosen_registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    check, report = run_check(
        registrant, source=LedgerCheck.Source.WEB, notify=False, by=request.user
    )
    if check.ok:
        messages.success(
            request, f"Ledger intact: {check.entries_checked} entries checked."
        )
    else:
        messages.error(request, report.describe())
    return redirect(
        f"{request.build_absolute_uri('/ledger/')}?registrant={registrant.uuid}"
    )
