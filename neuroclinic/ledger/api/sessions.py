"""A patient's session: draw, administer, waste, return, and its summary."""

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from neuroclinic.accounts.roles import Capability
from neuroclinic.ledger.actions.sessions import (
    draw_for_session,
    record_administration,
    return_to_stock,
    session_summary,
    waste_remainder,
)
from neuroclinic.ledger.api.access import (
    Needs,
    confirmed_witness,
    get_own,
    refusals,
    staff_user,
)
from neuroclinic.ledger.api.serialize import entry_list
from neuroclinic.ledger.models import Container
from neuroclinic.ledger.schemas import (
    AdministrationIn,
    DrawIn,
    EntryOut,
    ReturnIn,
    SessionOut,
    SessionWasteIn,
)
from neuroclinic.patients.access import get_patient_for_user

router = Router()


@router.post("/draws", response={201: EntryOut}, auth=Needs(Capability.LEDGER_DRAW))
def draw(request: HttpRequest, payload: DrawIn) -> Status[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_DRAW)
    container = get_own(Container, user, payload.container)
    patient = get_patient_for_user(
        user, payload.patient, capability=Capability.LEDGER_DRAW
    )
    with refusals():
        entry = draw_for_session(
            container,
            session_ref=payload.session_ref,
            patient=patient,
            volume_ml=payload.volume_ml,
            by=user,
            occurred_at=payload.occurred_at,
        )
    return Status(201, entry_list([entry])[0])


@router.post(
    "/administrations",
    response={201: list[EntryOut]},
    auth=Needs(Capability.LEDGER_DRAW),
)
def administer(
    request: HttpRequest, payload: AdministrationIn
) -> Status[list[dict[str, Any]]]:
    user = staff_user(request, Capability.LEDGER_DRAW)
    patient = (
        get_patient_for_user(user, payload.patient, capability=Capability.LEDGER_DRAW)
        if payload.patient is not None
        else None
    )
    with refusals():
        entries = record_administration(
            payload.session_ref,
            volume_ml=payload.volume_ml,
            by=user,
            patient=patient,
            occurred_at=payload.occurred_at,
        )
    return Status(201, entry_list(entries))


@router.post(
    "/wastes", response={201: list[EntryOut]}, auth=Needs(Capability.LEDGER_DRAW)
)
def waste(
    request: HttpRequest, payload: SessionWasteIn
) -> Status[list[dict[str, Any]]]:
    """Waste what a session drew and did not give, witnessed (password + TOTP now)."""
    user = staff_user(request, Capability.LEDGER_DRAW)
    witness = confirmed_witness(user, payload.witness)
    with refusals():
        entries = waste_remainder(
            payload.session_ref,
            volume_ml=payload.volume_ml,
            by=user,
            witness=witness,
            reason=payload.reason,
        )
    return Status(201, entry_list(entries))


@router.post(
    "/returns", response={201: list[EntryOut]}, auth=Needs(Capability.LEDGER_DRAW)
)
def return_unused(
    request: HttpRequest, payload: ReturnIn
) -> Status[list[dict[str, Any]]]:
    user = staff_user(request, Capability.LEDGER_DRAW)
    witness = confirmed_witness(user, payload.witness)
    with refusals():
        entries = return_to_stock(
            payload.session_ref,
            volume_ml=payload.volume_ml,
            by=user,
            witness=witness,
            reason=payload.reason,
        )
    return Status(201, entry_list(entries))


@router.get(
    "/sessions/{session_ref}", response=SessionOut, auth=Needs(Capability.LEDGER_VIEW)
)
def read_session(request: HttpRequest, session_ref: UUID) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    summary = session_summary(session_ref, organization_id=user.organization_pk)
    if not summary.entries:
        raise HttpError(404, "No such session in the ledger.")
    patient = summary.entries[0].patient
    return {
        "session_ref": summary.session_ref,
        "patient": patient.uuid if patient else None,
        "drawn_ml": summary.drawn_ml,
        "administered_ml": summary.administered_ml,
        "wasted_ml": summary.wasted_ml,
        "returned_ml": summary.returned_ml,
        "outstanding_ml": summary.outstanding_ml,
        "reconciled": summary.reconciled,
        "entries": entry_list(summary.entries),
    }
