"""The nightly ledger check: verify every chain, keep the result, tell the custodian.

Run by cron as `neuroclinic ledger verify --record` (docs/ledger.md), by the
`nightly_ledger_check` task, or from the ledger page. The email carries each
chain's head hash: a copy outside the database that a later rewrite of the
chain cannot reach.
"""

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.ledger.models import LedgerCheck, Registrant
from neuroclinic.ledger.notify import send_safely
from neuroclinic.ledger.status import inventory_status, open_tasks
from neuroclinic.ledger.verify import LedgerReport, verify_registrant


def _custodian_emails(organization_id: int) -> list[str]:
    return sorted(
        {
            u.email
            for u in User.objects.filter(
                organization_id=organization_id,
                is_active=True,
                groups__name=Role.CUSTODIAN.value,
            )
            if u.email
        }
    )


def _reminders(registrant: Registrant) -> list[str]:
    lines = []
    status = inventory_status(registrant)
    if not status.has_initial:
        lines.append("No initial inventory is on record: take one (21 CFR 1304.11(b)).")
    elif status.overdue:
        lines.append(
            f"The biennial inventory was due on {status.due_date:%Y-%m-%d} and is OVERDUE."
        )
    elif status.due_soon:
        lines.append(
            f"The biennial inventory is due by {status.due_date:%Y-%m-%d} "
            f"({status.days_left} days)."
        )
    for task in open_tasks(registrant):
        if task.due_date <= status.today:
            state = "OVERDUE" if task.due_date < status.today else "due today"
            lines.append(
                f"{task.get_kind_display()}: {state} ({task.due_date:%Y-%m-%d})."
            )
    return lines


def run_check(
    registrant: Registrant,
    *,
    source: str,
    notify: bool,
    by: User | None = None,
) -> tuple[LedgerCheck, LedgerReport]:
    """Verify one registrant's chain and store the result; email the custodians if asked."""
    report = verify_registrant(registrant)
    recipients = _custodian_emails(registrant.organization_id) if notify else []
    with transaction.atomic():
        check = LedgerCheck.objects.create(
            organization_id=registrant.organization_id,
            registrant=registrant,
            ran_at=timezone.now(),
            source=source,
            ok=report.ok,
            entries_checked=report.checked,
            first_bad_seq=report.first_bad_seq,
            problem=report.problem,
            head_seq=report.head_seq,
            head_hash=report.head_hash,
            notified=", ".join(recipients),
        )
        record(
            AuditEvent.Action.LEDGER_CHECKED,
            actor=by,
            actor_username="" if by else f"({source} check)",
            organization=registrant.organization,
            subject=check,
            ok=report.ok,
            head_seq=report.head_seq,
            first_bad_seq=report.first_bad_seq,
        )
    if recipients:
        state = "intact" if report.ok else "BROKEN"
        body = [
            f"Ledger check of {registrant.name} (DEA {registrant.dea_number}) at "
            f"{check.ran_at:%Y-%m-%d %H:%M} UTC: {state}.",
            report.describe(),
            "",
            "Keep this email: the head hash above lets anyone prove later that the "
            "ledger up to that entry was not rewritten.",
        ]
        reminders = _reminders(registrant)
        if reminders:
            body += ["", "Also:", *(f"- {line}" for line in reminders)]
        send_safely(
            f"Ledger check: {state} ({registrant.dea_number})",
            "\n".join(body),
            recipients,
        )
    return check, report


def run_nightly_checks(
    *, source: str = LedgerCheck.Source.NIGHTLY
) -> list[LedgerReport]:
    reports = []
    for registrant in Registrant.objects.select_related("organization", "location"):
        _, report = run_check(registrant, source=source, notify=True)
        reports.append(report)
    return reports
