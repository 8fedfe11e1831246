"""The nightly audit-log check (scheduled in neuroclinic/operations/schedule.py)."""

from django.tasks import task

from neuroclinic.audit.verify import verify_audit_chain


class AuditChainBroken(Exception):
    """The audit log's hash chain failed verification."""


@task(queue_name="bulk")
def verify_audit_log() -> dict[str, object]:
    """Walk the audit chain; a broken link fails the task so it shows on the operations page."""
    report = verify_audit_chain()
    if not report.ok:
        raise AuditChainBroken(
            f"audit chain broken at event #{report.first_bad_seq}: {report.problem}"
        )
    return {"checked": report.checked, "head_hash": report.head_hash}
