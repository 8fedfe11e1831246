"""Background work for the ledger (Django's Tasks framework, run by `neuroclinic worker`).

The nightly check is scheduled in neuroclinic/operations/schedule.py; cron can
run the same work as `neuroclinic ledger verify --record` (docs/ledger.md).
"""

from django.tasks import task

from neuroclinic.ledger.checks import run_nightly_checks


class LedgerChainBroken(Exception):
    """At least one registrant's chain failed verification (the check is stored and emailed)."""


@task(queue_name="bulk")
def nightly_ledger_check() -> dict[str, bool]:
    """Verify every chain, store the results, email the custodians. Returns ok per registrant.

    A broken chain also fails the task, so it shows on the operations page.
    """
    results = {report.registrant: report.ok for report in run_nightly_checks()}
    broken = sorted(name for name, ok in results.items() if not ok)
    if broken:
        raise LedgerChainBroken(
            f"{len(broken)} registrant chain(s) failed verification"
        )
    return results
