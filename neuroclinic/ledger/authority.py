"""Who may put a patient's draw or administration on the ledger: the clinical record.

The ledger knows nothing of infusions. A patient's draw and administration must still
belong to a real clinical session (an infusion of that patient, at that registration's
location, at a step that allows it, under a signed order). The app that owns those
sessions registers a `SessionAuthority` when Django starts (infusions does, in its
AppConfig.ready); the ledger asks it before every patient draw and administration, on
every path (staff page, API, command line, the infusion chart). With no authority
registered the ledger refuses: it fails closed.
"""

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from neuroclinic.accounts.models import User
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.patients.models import Patient


class SessionStep(StrEnum):
    DRAW = "draw"
    ADMINISTER = "administer"


@dataclass(frozen=True)
class SessionClaim:
    """What a ledger write says about a clinical session; the authority judges it."""

    step: SessionStep
    session_ref: uuid.UUID
    patient: Patient
    registrant_id: int
    volume_ml: Decimal
    concentration_mg_per_ml: Decimal | None
    by: User


class SessionAuthority(Protocol):
    def __call__(self, claim: SessionClaim) -> str | None:
        """None if the claim belongs to a real session at the right step, else why not."""


_authority: SessionAuthority | None = None


def register(authority: SessionAuthority) -> None:
    global _authority
    _authority = authority


@contextlib.contextmanager
def replaced(authority: SessionAuthority | None) -> Iterator[None]:
    """Use another authority for a while (the ledger's own unit tests, which have no
    infusions, and the demo's synthetic history)."""
    global _authority
    before = _authority
    _authority = authority
    try:
        yield
    finally:
        _authority = before


def require_session(claim: SessionClaim) -> None:
    """Refuse (LedgerError, nothing written) unless the session authority accepts the claim."""
    if _authority is None:
        raise LedgerError(
            "A patient's draw or administration is recorded from the clinical record "
            "(the infusion chart); there is no clinical record to check it against.",
            field="session_ref",
            code="session_not_clinical",
        )
    problem = _authority(claim)
    if problem is not None:
        raise LedgerError(problem, field="session_ref", code="session_not_clinical")
