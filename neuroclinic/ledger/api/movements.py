"""Whole-vial movements and the reversal that corrects a mistaken entry."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from neuroclinic.accounts.roles import Capability
from neuroclinic.ledger.actions.movements import (
    destroy_on_site,
    record_theft_or_loss,
    reverse_entry,
    send_to_reverse_distributor,
    transfer_container,
    waste_from_container,
)
from neuroclinic.ledger.api.access import (
    Needs,
    confirmed_witness,
    get_own,
    refusals,
    staff_user,
)
from neuroclinic.ledger.api.serialize import entry_list
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.schemas import (
    ContainerWasteIn,
    DestructionIn,
    EntryOut,
    LossIn,
    ReversalIn,
    ReverseDistributorIn,
    TransferIn,
    TransferOut,
)

router = Router()


@router.post(
    "/container-wastes", response={201: EntryOut}, auth=Needs(Capability.LEDGER_DRAW)
)
def waste_from_vial(
    request: HttpRequest, payload: ContainerWasteIn
) -> Status[dict[str, Any]]:
    """Breakage, spillage, or an opened vial discarded: witnessed."""
    user = staff_user(request, Capability.LEDGER_DRAW)
    container = get_own(Container, user, payload.container)
    witness = confirmed_witness(user, payload.witness)
    with refusals():
        entry = waste_from_container(
            container,
            volume_ml=payload.volume_ml,
            reason=payload.reason,
            by=user,
            witness=witness,
        )
    return Status(201, entry_list([entry])[0])


@router.post(
    "/transfers", response={201: TransferOut}, auth=Needs(Capability.LEDGER_RECEIVE)
)
def transfer(request: HttpRequest, payload: TransferIn) -> Status[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_RECEIVE)
    container = get_own(Container, user, payload.container)
    target = get_own(StorageLocation, user, payload.to_storage_location)
    with refusals():
        out, into = transfer_container(
            container, to_storage_location=target, by=user, reason=payload.reason
        )
    both = entry_list([out, into])
    return Status(201, {"transfer_out": both[0], "transfer_in": both[1]})


@router.post(
    "/reverse-distributions",
    response={201: EntryOut},
    auth=Needs(Capability.LEDGER_DESTROY),
)
def reverse_distribution(
    request: HttpRequest, payload: ReverseDistributorIn
) -> Status[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_DESTROY)
    container = get_own(Container, user, payload.container)
    distributor = get_own(Supplier, user, payload.reverse_distributor)
    witness = confirmed_witness(user, payload.witness)
    with refusals():
        entry = send_to_reverse_distributor(
            container,
            reverse_distributor=distributor,
            by=user,
            witness=witness,
            reason=payload.reason,
        )
    return Status(201, entry_list([entry])[0])


@router.post(
    "/destructions", response={201: EntryOut}, auth=Needs(Capability.LEDGER_DESTROY)
)
def destruction(request: HttpRequest, payload: DestructionIn) -> Status[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_DESTROY)
    container = get_own(Container, user, payload.container)
    witness = confirmed_witness(user, payload.witness)
    with refusals():
        entry = destroy_on_site(
            container,
            method=payload.method,
            by=user,
            witness=witness,
            reason=payload.reason,
        )
    return Status(201, entry_list([entry])[0])


@router.post("/losses", response={201: EntryOut}, auth=Needs(Capability.LEDGER_DESTROY))
def loss(request: HttpRequest, payload: LossIn) -> Status[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_DESTROY)
    container = get_own(Container, user, payload.container)
    with refusals():
        entry = record_theft_or_loss(
            container,
            volume_ml=payload.volume_ml,
            reason=payload.reason,
            by=user,
        )
    return Status(201, entry_list([entry])[0])


@router.post(
    "/reversals", response={201: EntryOut}, auth=Needs(Capability.LEDGER_ADJUST)
)
def reversal(request: HttpRequest, payload: ReversalIn) -> Status[dict[str, Any]]:
    """Correct a mistaken entry: a new entry that undoes it and points at it. Witnessed."""
    user = staff_user(request, Capability.LEDGER_ADJUST)
    entry = get_own(LedgerEntry, user, payload.entry)
    witness = confirmed_witness(user, payload.witness)
    with refusals():
        reversing = reverse_entry(
            entry, reason=payload.reason, by=user, witness=witness
        )
    return Status(201, entry_list([reversing])[0])
