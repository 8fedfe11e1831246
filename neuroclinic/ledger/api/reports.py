"""Inspection reports (audited) and chain verification."""

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import FieldErrors
from neuroclinic.ledger.actions.report_access import record_report_access
from neuroclinic.ledger.api.access import Needs, get_own, staff_user
from neuroclinic.ledger.api.serialize import check_out
from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.models import (
    LedgerCheck,
    Registrant,
)
from neuroclinic.ledger.reports import ReportKind, build_report
from neuroclinic.ledger.schemas import (
    CheckOut,
    ReportOut,
)
from neuroclinic.ledger.status import latest_checks as latest_checks_of

router = Router()


class ReportQuery(Schema):
    registrant: UUID
    start_date: date | None = None
    end_date: date | None = None


@router.get("/reports/{kind}", response=ReportOut, auth=Needs(Capability.LEDGER_REPORT))
def report(
    request: HttpRequest, kind: ReportKind, query: Query[ReportQuery]
) -> dict[str, Any]:
    """An inspection report for a date range (default: the last 30 days). Audited."""
    user = staff_user(request, Capability.LEDGER_REPORT)
    registrant = get_own(Registrant, user, query.registrant)
    end = query.end_date or local_date(registrant, timezone.now())
    start = query.start_date or end - timedelta(days=30)
    if start > end:
        raise FieldErrors({"start_date": ["The start date is after the end date."]})
    built = build_report(kind, registrant, start, end)
    record_report_access(
        registrant,
        report=kind,
        start_date=start,
        end_date=end,
        exported=True,
        by=user,
        rows=len(built.rows),
    )
    return {
        "report": kind.value,
        "title": built.title,
        "registrant": registrant.uuid,
        "start_date": start,
        "end_date": end,
        "columns": built.columns,
        "rows": built.as_dicts(),
    }


@router.get(
    "/checks/latest", response=list[CheckOut], auth=Needs(Capability.LEDGER_VIEW)
)
def latest_checks(request: HttpRequest) -> list[dict[str, Any]]:
    """The last verification of each registrant's chain."""
    user = staff_user(request, Capability.LEDGER_VIEW)
    registrants = Registrant.objects.filter(organization_id=user.organization_pk)
    return [check_out(check) for check in latest_checks_of(registrants)]


class CheckIn(Schema):
    registrant: UUID


@router.post("/checks", response={201: CheckOut}, auth=Needs(Capability.LEDGER_REPORT))
def run_check_now(request: HttpRequest, payload: CheckIn) -> Status[dict[str, Any]]:
    """Verify a chain now (read-only on the ledger; the result is kept)."""
    user = staff_user(request, Capability.LEDGER_REPORT)
    registrant = get_own(Registrant, user, payload.registrant)
    check, _ = run_check(
        registrant, source=LedgerCheck.Source.WEB, notify=False, by=user
    )
    return Status(201, check_out(check))
