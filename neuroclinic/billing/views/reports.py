"""Accounts-receivable aging and the end-of-day reconciliation per location (audited reads)."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.accounting import invoices_with_balances
from neuroclinic.billing.actions.reads import record_read
from neuroclinic.billing.models import Invoice, Payment
from neuroclinic.billing.rules import AGING_BUCKETS, AGING_OLDEST, aging_bucket
from neuroclinic.clinics.models import Location
from neuroclinic.http import AuthenticatedHttpRequest


@require_capability(Capability.BILLING_VIEW)
@require_GET
def aging(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open invoices by age; patients by MRN and name (billing sees demographics)."""
    today = timezone.localdate()
    rows = [
        row
        for row in invoices_with_balances(
            Invoice.objects.filter(organization_id=request.user.organization_pk)
            .select_related("patient")
            .prefetch_related(Prefetch("payments", queryset=Payment.objects.all()))
            .order_by("service_date", "id")
        )
        if row.balance.due > 0
    ]
    labels = [b[2] for b in AGING_BUCKETS] + [AGING_OLDEST]
    totals: dict[str, Decimal] = {label: Decimal("0.00") for label in labels}
    lines = []
    for row in rows:
        bucket = aging_bucket((today - row.invoice.service_date).days)
        totals[bucket] += row.balance.due
        lines.append((row, bucket))
    record_read(
        AuditEvent.Action.BILLING_REPORT_VIEWED,
        by=request.user,
        report="aging",
        count=len(rows),
        patients=sorted({str(r.invoice.patient.uuid) for r in rows}),
    )
    return render(
        request,
        "billing/aging.html",
        {
            "lines": lines,
            "labels": labels,
            "totals": [(label, totals[label]) for label in labels],
            "total": sum(totals.values(), Decimal("0.00")),
        },
    )


@require_capability(Capability.BILLING_VIEW)
@require_GET
def day_end(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Money in and out on one day at each location, by method: what the drawer and terminal should hold."""
    try:
        on = (
            date.fromisoformat(request.GET.get("date", ""))
            if request.GET.get("date")
            else timezone.localdate()
        )
    except ValueError:
        on = timezone.localdate()
    locations = list(
        Location.objects.filter(organization_id=request.user.organization_pk).order_by(
            "name", "id"
        )
    )
    zone = ZoneInfo(locations[0].time_zone) if locations else ZoneInfo("UTC")
    start = datetime.combine(on, time.min, tzinfo=zone)
    payments = (
        Payment.objects.filter(
            organization_id=request.user.organization_pk,
            received_at__gte=start,
            received_at__lt=start + timedelta(days=1),
        )
        # No money moves when credit is applied or forfeited.
        .exclude(kind__in=(Payment.Kind.CREDIT_APPLIED, Payment.Kind.FORFEITED))
        .select_related("location")
    )
    table: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: defaultdict(lambda: Decimal("0.00"))
    )
    count = 0
    for payment in payments:
        where = payment.location.name if payment.location else "No location"
        table[where][payment.get_method_display()] += payment.signed_amount
        count += 1
    record_read(
        AuditEvent.Action.BILLING_REPORT_VIEWED,
        by=request.user,
        report="day_end",
        date=on.isoformat(),
        count=count,
    )
    return render(
        request,
        "billing/day_end.html",
        {
            "on": on,
            "rows": [
                (where, sorted(methods.items()), sum(methods.values(), Decimal("0.00")))
                for where, methods in sorted(table.items())
            ],
        },
    )
