"""The checks a restore (and the nightly job) runs, and the chain heads a backup records.

Hooks for later work, in one place so the lead can register them:

- `VERIFIERS`: dotted paths of callables taking no arguments and returning a
  list of problems (empty when intact). A restore runs every one and exits
  non-zero on any problem. The signed-checkpoint work appends its verifier
  here (checkpoint files travel in every backup: settings.CHECKPOINT_DIR).
- `HEAD_TABLES`: models whose rows are chain heads; a backup's manifest holds
  them and a restore compares them row for row.
"""

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string

VERIFIERS: list[str] = [
    "neuroclinic.operations.integrity.audit_chain_problems",
    "neuroclinic.operations.integrity.ledger_chain_problems",
    "neuroclinic.operations.integrity.seal_problems",
]

HEAD_TABLES: list[str] = ["audit.ChainHead", "ledger.LedgerHead"]

# Columns that change without changing the chain (a head's bookkeeping).
_IGNORED_HEAD_COLUMNS = {"updated_at"}


def audit_chain_problems() -> list[str]:
    from neuroclinic.audit.verify import verify_audit_chain

    report = verify_audit_chain()
    if report.ok:
        return []
    return [f"audit chain broken at event #{report.first_bad_seq}: {report.problem}"]


def ledger_chain_problems() -> list[str]:
    from neuroclinic.ledger.models import Registrant
    from neuroclinic.ledger.verify import verify_registrant

    return [
        report.describe()
        for report in map(verify_registrant, Registrant.objects.order_by("id"))
        if not report.ok
    ]


def seal_problems() -> list[str]:
    from neuroclinic.audit.seals import verify_seals

    return [f"record {problem.describe()}" for problem in verify_seals()]


def ledger_chain_problems_incremental() -> list[str]:
    """Each ledger chain from the newest signed checkpoint on (a full walk without one)."""
    from neuroclinic.ledger.models import Registrant
    from neuroclinic.ledger.verify import verify_registrant
    from neuroclinic.operations.checkpoints import latest_checkpoint, ledger_anchor

    checkpoint = latest_checkpoint()
    return [
        report.describe()
        for report in (
            verify_registrant(r, since=ledger_anchor(checkpoint, r.pk))
            for r in Registrant.objects.order_by("id")
        )
        if not report.ok
    ]


def checkpoint_problems() -> list[str]:
    """`verify --checkpoints`: every signed checkpoint still sits in its chain."""
    from neuroclinic.operations.checkpoints import checkpoint_problems as problems

    return problems()


def run_verifier(path: str) -> list[str]:
    verifier: Callable[[], list[str]] = import_string(path)
    return verifier()


def run_verifiers() -> list[str]:
    problems: list[str] = []
    for path in VERIFIERS:
        problems += run_verifier(path)
    return problems


def head_table_names() -> list[str]:
    return [apps.get_model(label)._meta.db_table for label in HEAD_TABLES]


def read_heads(
    cursor: Any, quote: Callable[[str], str]
) -> dict[str, list[dict[str, str]]]:
    """Every chain head row, as text, from a DB-API cursor (the snapshot's, or the restored database's)."""
    heads: dict[str, list[dict[str, str]]] = {}
    for table in head_table_names():
        cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY id")  # noqa: S608 - our own table names
        columns = [c[0] for c in cursor.description]
        heads[table] = [
            {
                col: str(value)
                for col, value in zip(columns, row, strict=True)
                if col not in _IGNORED_HEAD_COLUMNS
            }
            for row in cursor.fetchall()
        ]
    return heads
