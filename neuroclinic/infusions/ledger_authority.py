"""The infusion app vouches for the ledger's patient draws and administrations.

Registered with the ledger when Django starts (apps.py). The ledger asks it before it
writes a patient's draw or administration, whichever path the write came by (the
infusion chart, the ledger's own pages, its API, the command line), so ketamine is
never booked to a patient without an infusion behind it (docs/ledger.md, "Patient
sessions"):

- a draw belongs to a checked-in infusion of that patient, at the location of the
  stock's registration, under a signed active order, with a confirmed checklist and a
  calculated dose of the vial's strength, and the session's draws stay within the
  calculated volume plus the clinic's overfill (INFUSION_DRAW_OVERFILL_ML);
- an administration is written once, when the pump stops (the infusion is in
  recovery), and equals the charted mg given, within the order's ceiling.
"""

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from neuroclinic.infusions.actions.common import current_dose
from neuroclinic.infusions.models import DoseRecord, InfusionSession
from neuroclinic.ledger.authority import SessionClaim, SessionStep

# The session (and its current dose) that the infusion action asking the ledger has
# locked and read in its own transaction: the claim is judged from them rather than
# from a second read of the same rows (issue 18, item 10). Any other path (the
# ledger's pages, its API, the command line) has none, and vouch reads both.
_locked: ContextVar[tuple[InfusionSession, DoseRecord | None] | None] = ContextVar(
    "infusion_locked_for_ledger", default=None
)


@contextlib.contextmanager
def locked_session(session: InfusionSession, dose: DoseRecord | None) -> Iterator[None]:
    """While an infusion action that holds `session`'s row lock (common.lock_session),
    and has read its current dose after taking it, writes to the ledger."""
    token = _locked.set((session, dose))
    try:
        yield
    finally:
        _locked.reset(token)


def _draw_limit_ml(dose: DoseRecord) -> Decimal:
    overfill: Decimal = settings.INFUSION_DRAW_OVERFILL_ML
    drug: Decimal = dose.drug_volume_ml
    return drug + overfill


def vouch(claim: SessionClaim) -> str | None:
    """None if the claim belongs to a real infusion at the right step, else why not."""
    from neuroclinic.ledger.actions.sessions import session_summary

    known = _locked.get()
    session: InfusionSession | None
    if (
        known is not None
        and known[0].uuid == claim.session_ref
        and known[0].organization_id == claim.patient.organization_id
    ):
        session, dose = known
    else:
        session = (
            InfusionSession.objects.select_related("order", "location__registrant")
            .filter(
                uuid=claim.session_ref, organization_id=claim.patient.organization_id
            )
            .first()
        )
        dose = current_dose(session) if session is not None else None
    if session is None:
        return (
            "No infusion has this session reference: a patient's draw and "
            "administration are recorded from the infusion chart."
        )
    if session.patient_id != claim.patient.pk:
        return "This infusion is another patient's."
    registrant = getattr(session.location, "registrant", None)
    if registrant is None or registrant.pk != claim.registrant_id:
        return f"This infusion is at {session.location.name}: use the stock registered there."
    order = session.order  # an InfusionOrder exists only signed (treatment.models)
    summary = session_summary(
        claim.session_ref, organization_id=session.organization_id
    )
    if claim.step == SessionStep.DRAW:
        if session.status != InfusionSession.Status.CHECKED_IN:
            return (
                "Ketamine is drawn for a checked-in infusion, before it starts "
                f"(this one is {session.get_status_display().lower()})."
            )
        if not order.is_active:
            return "The infusion's order is no longer active."
        if session.checklist_confirmed_at is None:
            return "Confirm the infusion's checklist before drawing."
        if dose is None:
            return "Calculate the dose before drawing."
        if claim.concentration_mg_per_ml != dose.concentration_mg_per_ml:
            return "The vial's strength is not the one the dose was calculated for."
        limit = _draw_limit_ml(dose)
        drawn = summary.drawn_ml - summary.returned_ml
        if drawn + claim.volume_ml > limit:
            return (
                f"Draw at most {limit} mL for this dose (the calculated "
                f"{dose.drug_volume_ml} mL plus {settings.INFUSION_DRAW_OVERFILL_ML} mL "
                f"overfill); {drawn} mL is already drawn."
            )
        return None
    if session.status != InfusionSession.Status.RECOVERY or session.ended_at is None:
        return "What was administered is recorded once, from the pump stop."
    if summary.administered_ml != 0:
        return "This infusion's administration is already recorded."
    if dose is None or session.mg_given is None:
        return "The chart records no dose given."
    mg = claim.volume_ml * (
        claim.concentration_mg_per_ml or dose.concentration_mg_per_ml
    )
    if mg.quantize(Decimal("0.01"), ROUND_HALF_UP) != session.mg_given:
        return (
            f"The chart records {session.mg_given} mg given; {claim.volume_ml} mL is "
            f"{mg.normalize():f} mg."
        )
    if session.mg_given > order.max_dose_mg:
        return f"{session.mg_given} mg is above the order's ceiling of {order.max_dose_mg} mg."
    return None
