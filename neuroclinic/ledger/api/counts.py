"""Counts, inventories, discrepancies and their compliance tasks."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import FieldErrors
from neuroclinic.ledger.actions.counts import (
    CountInput,
    complete_task,
    escalate_significant_loss,
    investigate_discrepancy,
    record_count,
    resolve_minor_variance,
)
from neuroclinic.ledger.actions.inventory import take_inventory
from neuroclinic.ledger.api.access import (
    Needs,
    confirmed_witness,
    get_own,
    refusals,
    staff_user,
)
from neuroclinic.ledger.api.serialize import (
    count_out,
    discrepancy_out,
    inventory_out,
    task_out,
    with_discrepancy_details,
)
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    Discrepancy,
    Inventory,
    Registrant,
    StorageLocation,
)
from neuroclinic.ledger.schemas import (
    CountIn,
    CountOut,
    DiscrepancyOut,
    EscalateIn,
    InventoryIn,
    InventoryOut,
    InventoryStatusOut,
    NotesIn,
    TaskDoneIn,
    TaskOut,
)
from neuroclinic.ledger.status import inventory_statuses

router = Router()


def _count_lines(user: User, lines: list[Any]) -> list[CountInput]:
    return [
        CountInput(
            container=get_own(Container, user, line.container),
            counted_ml=line.counted_ml,
        )
        for line in lines
    ]


@router.post("/counts", response={201: CountOut}, auth=Needs(Capability.LEDGER_COUNT))
def count(request: HttpRequest, payload: CountIn) -> Status[dict[str, Any]]:
    """A two-person count of one safe; a variance opens a discrepancy."""
    user = staff_user(request, Capability.LEDGER_COUNT)
    storage = get_own(StorageLocation, user, payload.storage_location)
    lines = _count_lines(user, payload.lines)
    if payload.kind not in Count.Kind.values:
        raise FieldErrors({"kind": [f"Choose one of {', '.join(Count.Kind.values)}."]})
    witness = confirmed_witness(user, payload.second_counter, prefix="second_counter")
    with refusals():
        made = record_count(
            storage,
            lines=lines,
            by=user,
            witness=witness,
            kind=payload.kind,
            notes=payload.notes,
        )
    return Status(201, count_out(made))


@router.get("/counts/{count_id}", response=CountOut, auth=Needs(Capability.LEDGER_VIEW))
def read_count(request: HttpRequest, count_id: UUID) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    return count_out(get_own(Count, user, count_id))


@router.post(
    "/inventories", response={201: InventoryOut}, auth=Needs(Capability.LEDGER_COUNT)
)
def inventory(request: HttpRequest, payload: InventoryIn) -> Status[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_COUNT)
    registrant = get_own(Registrant, user, payload.registrant)
    lines = _count_lines(user, payload.lines)
    second = (
        confirmed_witness(user, payload.second_taker, prefix="second_taker")
        if payload.second_taker is not None
        else None
    )
    with refusals():
        made = take_inventory(
            registrant,
            kind=payload.kind,
            time_of_day=payload.time_of_day,
            lines=lines,
            by=user,
            second_taker=second,
            notes=payload.notes,
        )
    return Status(201, inventory_out(made))


@router.get(
    "/inventories/{inventory_id}",
    response=InventoryOut,
    auth=Needs(Capability.LEDGER_REPORT),
)
def read_inventory(request: HttpRequest, inventory_id: UUID) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_REPORT)
    return inventory_out(get_own(Inventory, user, inventory_id))


@router.get(
    "/inventory-status",
    response=list[InventoryStatusOut],
    auth=Needs(Capability.LEDGER_VIEW),
)
def read_inventory_status(request: HttpRequest) -> list[dict[str, Any]]:
    """Per registrant: the last initial or biennial inventory and when the next is due."""
    user = staff_user(request, Capability.LEDGER_VIEW)
    registrants = Registrant.objects.filter(organization_id=user.organization_pk)
    return [
        {
            "registrant": registrant.uuid,
            "last_inventory_date": status.last_date,
            "biennial_due_date": status.due_date,
            "overdue": status.overdue,
            "has_initial": status.has_initial,
        }
        for registrant, status in inventory_statuses(registrants)
    ]


@router.get(
    "/discrepancies", response=list[DiscrepancyOut], auth=Needs(Capability.LEDGER_VIEW)
)
def list_discrepancies(request: HttpRequest) -> list[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    mine = Discrepancy.objects.filter(organization_id=user.organization_pk)
    return [discrepancy_out(d) for d in with_discrepancy_details(mine)]


@router.get(
    "/discrepancies/{discrepancy_id}",
    response=DiscrepancyOut,
    auth=Needs(Capability.LEDGER_VIEW),
)
def read_discrepancy(request: HttpRequest, discrepancy_id: UUID) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    mine = Discrepancy.objects.filter(organization_id=user.organization_pk)
    return discrepancy_out(
        get_object_or_404(with_discrepancy_details(mine), uuid=discrepancy_id)
    )


def _discrepancy_step(
    request: HttpRequest,
    discrepancy_id: UUID,
    step: Callable[[Discrepancy, User], Discrepancy],
) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_ADJUST)
    discrepancy = get_own(Discrepancy, user, discrepancy_id)
    with refusals():
        done = step(discrepancy, user)
    return discrepancy_out(
        with_discrepancy_details(Discrepancy.objects.all()).get(pk=done.pk)
    )


@router.post(
    "/discrepancies/{discrepancy_id}/investigate",
    response=DiscrepancyOut,
    auth=Needs(Capability.LEDGER_ADJUST),
)
def investigate(
    request: HttpRequest, discrepancy_id: UUID, payload: NotesIn
) -> dict[str, Any]:
    return _discrepancy_step(
        request,
        discrepancy_id,
        lambda d, user: investigate_discrepancy(d, notes=payload.notes, by=user),
    )


@router.post(
    "/discrepancies/{discrepancy_id}/resolve",
    response=DiscrepancyOut,
    auth=Needs(Capability.LEDGER_ADJUST),
)
def resolve(
    request: HttpRequest, discrepancy_id: UUID, payload: NotesIn
) -> dict[str, Any]:
    """Close as a documented minor variance; the ledger is adjusted to the count."""
    return _discrepancy_step(
        request,
        discrepancy_id,
        lambda d, user: resolve_minor_variance(d, notes=payload.notes, by=user),
    )


@router.post(
    "/discrepancies/{discrepancy_id}/escalate",
    response=DiscrepancyOut,
    auth=Needs(Capability.LEDGER_ADJUST),
)
def escalate(
    request: HttpRequest, discrepancy_id: UUID, payload: EscalateIn
) -> dict[str, Any]:
    """Theft or significant loss: DEA notice and Form 106 tasks with due dates, Form 106 draft."""
    return _discrepancy_step(
        request,
        discrepancy_id,
        lambda d, user: escalate_significant_loss(
            d, loss_kind=payload.loss_kind, notes=payload.notes, by=user
        ),
    )


@router.post(
    "/tasks/{task_id}/done", response=TaskOut, auth=Needs(Capability.LEDGER_ADJUST)
)
def task_done(
    request: HttpRequest, task_id: UUID, payload: TaskDoneIn
) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_ADJUST)
    task = get_own(ComplianceTask, user, task_id)
    with refusals():
        done = complete_task(task, reference=payload.reference, by=user)
    return task_out(done)
