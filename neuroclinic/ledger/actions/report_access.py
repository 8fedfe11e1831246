"""Reports show patient names and addresses: every opening and export is audited."""

from datetime import date

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.ledger.models import Registrant


@transaction.atomic
def record_report_access(
    registrant: Registrant,
    *,
    report: str,
    start_date: date,
    end_date: date,
    exported: bool,
    rows: int,
    by: User,
) -> None:
    record(
        AuditEvent.Action.LEDGER_REPORT_EXPORTED
        if exported
        else AuditEvent.Action.LEDGER_REPORT_VIEWED,
        actor=by,
        subject=registrant,
        report=report,
        start_date=start_date,
        end_date=end_date,
        rows=rows,
    )
