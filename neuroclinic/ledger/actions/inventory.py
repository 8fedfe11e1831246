"""Initial and biennial inventories of every container on hand (21 CFR 1304.11)."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.ledger.actions.counts import (
    CountInput,
    counted_lines,
    open_discrepancy,
)
from neuroclinic.ledger.actions.guards import (
    checked_time,
    checked_witness,
    require_same_organization,
)
from neuroclinic.ledger.chain import lock_containers
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Container, Inventory, InventoryLine, Registrant
from neuroclinic.ledger.rules import mg_from_ml
from neuroclinic.ledger.witness import WitnessConfirmation


@transaction.atomic
def take_inventory(
    registrant: Registrant,
    *,
    kind: str,
    time_of_day: str,
    lines: Sequence[CountInput],
    second_taker: WitnessConfirmation | None = None,
    notes: str = "",
    taken_at: datetime | None = None,
    by: User,
) -> Inventory:
    """An initial or biennial inventory of every container on hand (21 CFR 1304.11).

    Opened containers are estimated (allowed for Schedule III-V). An initial
    inventory with nothing on hand records zero. A variance opens a discrepancy.
    """
    require_same_organization(by, registrant)
    if kind not in Inventory.Kind.values:
        raise LedgerError("Choose the kind of inventory.", field="kind", code="invalid")
    if time_of_day not in Inventory.TimeOfDay.values:
        raise LedgerError(
            "Say whether it was taken at the opening or close of business.",
            field="time_of_day",
            code="invalid",
        )
    if (
        kind == Inventory.Kind.INITIAL
        and Inventory.objects.filter(
            registrant=registrant, kind=Inventory.Kind.INITIAL
        ).exists()
    ):
        raise LedgerError(
            "This registration already has its initial inventory; take a biennial one.",
            field="kind",
            code="initial_exists",
        )
    confirmation = (
        checked_witness(second_taker, actor=by, field="second_taker")
        if second_taker is not None
        else None
    )
    registrant = Registrant.objects.select_related("location").get(pk=registrant.pk)
    in_scope_ids = list(
        Container.objects.filter(
            registrant=registrant,
            status__in=[Container.Status.SEALED, Container.Status.OPEN],
        ).values_list("pk", flat=True)
    )
    locked = lock_containers(in_scope_ids)
    scope = [locked[pk] for pk in sorted(locked)]
    counted = counted_lines(registrant, scope, lines)
    now = checked_time(taken_at)
    inventory = Inventory.objects.create(
        organization_id=registrant.organization_id,
        registrant=registrant,
        kind=kind,
        taken_at=now,
        taken_date=local_date(registrant, now),
        time_of_day=time_of_day,
        taken_by=by,
        second_taker=confirmation.witness if confirmation else None,
        registrant_name=registrant.name,
        registrant_address=registrant.address,
        registrant_dea_number=registrant.dea_number,
        notes=notes,
    )
    InventoryLine.objects.bulk_create(
        InventoryLine(
            organization_id=registrant.organization_id,
            inventory=inventory,
            product=container.product,
            container=container,
            product_name=container.product.name,
            ndc=container.product.ndc,
            strength=f"{container.product.concentration_mg_per_ml.normalize():f} mg/mL",
            dosage_form=container.product.dosage_form,
            container_volume_ml=container.initial_volume_ml,
            lot_number=container.lot.lot_number,
            opened=container.opened_at is not None,
            estimated=estimated,
            expected_ml=container.balance_ml,
            quantity_ml=value,
            quantity_mg=mg_from_ml(
                volume_ml=value,
                concentration_mg_per_ml=container.product.concentration_mg_per_ml,
            ),
        )
        for container, value, estimated, _, _ in counted
    )
    record(
        AuditEvent.Action.LEDGER_INVENTORY_TAKEN,
        actor=by,
        subject=inventory,
        kind=kind,
        containers=len(counted),
    )
    flagged = [line for line in counted if line[4]]
    if flagged:
        open_discrepancy(
            registrant,
            flagged=flagged,
            when=now,
            inventory=inventory,
            by=by,
        )
    return inventory
