"""Background work for the ledger (Django's Tasks framework).

With no queue configured, enqueueing runs the task at once; cron can run the
same work as `neuroclinic ledger verify --record` (docs/ledger.md).
"""

from django.tasks import task

from neuroclinic.ledger.checks import run_nightly_checks


@task
def nightly_ledger_check() -> dict[str, bool]:
    """Verify every chain, store the results, email the custodians. Returns ok per registrant."""
    return {report.registrant: report.ok for report in run_nightly_checks()}
