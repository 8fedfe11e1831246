"""Counts and discrepancies: a two-person count of a safe; a variance opens a
discrepancy, which is investigated, then resolved as a minor variance or escalated as
theft or significant loss with its DEA tasks; and the tasks are completed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.ledger.actions.guards import (
    checked_time,
    checked_witness,
    require_same_organization,
)
from neuroclinic.ledger.chain import ZERO, Movement, append, lock_containers, lock_head
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    CountLine,
    Discrepancy,
    DiscrepancyLine,
    Form106Draft,
    Inventory,
    LedgerEntry,
    Registrant,
    StorageLocation,
)
from neuroclinic.ledger.notify import notify_custodians
from neuroclinic.ledger.rules import count_variance, discrepancy_due_dates, mg_from_ml
from neuroclinic.ledger.witness import WitnessConfirmation


@dataclass(frozen=True)
class CountInput:
    container: Container
    counted_ml: Decimal


def counted_lines(
    registrant: Registrant,
    containers_in_scope: list[Container],
    lines: Sequence[CountInput],
) -> list[tuple[Container, Decimal, bool, Decimal, bool]]:
    """(container, counted, estimated, variance, is_discrepancy) for every container in scope."""
    counted = {line.container.pk: line.counted_ml for line in lines}
    unknown = set(counted) - {c.pk for c in containers_in_scope}
    if unknown:
        raise LedgerError(
            "A counted vial is not in stock in this safe.",
            field="lines",
            code="not_in_scope",
        )
    result = []
    for container in containers_in_scope:
        if container.pk not in counted:
            raise LedgerError(
                f"Count every vial in the safe: vial {container.vial_identifier} is missing "
                "from the count (enter 0 if it is not there).",
                field="lines",
                code="count_incomplete",
            )
        value = counted[container.pk]
        if value < 0 or value != value.quantize(Decimal("0.01")):
            raise LedgerError(
                f"Vial {container.vial_identifier}: the counted volume must be 0 or more, "
                "to 0.01 mL.",
                field="lines",
                code="counted_invalid",
            )
        if value > container.initial_volume_ml:
            raise LedgerError(
                f"Vial {container.vial_identifier}: {value} mL is more than the vial holds "
                f"({container.initial_volume_ml} mL).",
                field="lines",
                code="counted_invalid",
            )
        estimated = container.opened_at is not None
        variance = count_variance(
            expected_ml=container.balance_ml,
            counted_ml=value,
            estimated=estimated,
            estimate_tolerance_ml=registrant.opened_estimate_tolerance_ml,
        )
        result.append(
            (container, value, estimated, variance.variance_ml, variance.is_discrepancy)
        )
    return result


def open_discrepancy(
    registrant: Registrant,
    *,
    flagged: list[tuple[Container, Decimal, bool, Decimal, bool]],
    when: datetime,
    count: Count | None = None,
    inventory: Inventory | None = None,
    by: User,
) -> Discrepancy:
    variance_ml = sum((v for _, _, _, v, _ in flagged), ZERO)
    variance_mg = sum(
        (
            (v * c.product.concentration_mg_per_ml).quantize(Decimal("0.01"))
            for c, _, _, v, _ in flagged
        ),
        ZERO,
    )
    discrepancy = Discrepancy.objects.create(
        organization_id=registrant.organization_id,
        registrant=registrant,
        count=count,
        inventory=inventory,
        discovered_at=when,
        discovered_by=by,
        variance_ml=variance_ml,
        variance_mg=variance_mg,
    )
    DiscrepancyLine.objects.bulk_create(
        DiscrepancyLine(
            organization_id=registrant.organization_id,
            discrepancy=discrepancy,
            container=container,
            expected_ml=container.balance_ml,
            counted_ml=counted,
            variance_ml=variance,
        )
        for container, counted, _, variance, _ in flagged
    )
    record(
        AuditEvent.Action.LEDGER_DISCREPANCY_OPENED,
        actor=by,
        subject=discrepancy,
        variance_ml=variance_ml,
        variance_mg=variance_mg,
        vials=[c.vial_identifier for c, *_ in flagged],
    )
    notify_custodians(
        registrant.organization_id,
        "Controlled-substance discrepancy opened",
        f"A count at {registrant.name} ({registrant.dea_number}) differs from the ledger by "
        f"{variance_ml} mL ({variance_mg} mg). Open the ledger to investigate it today.",
    )
    return discrepancy


@transaction.atomic
def record_count(
    storage_location: StorageLocation,
    *,
    lines: Sequence[CountInput],
    witness: WitnessConfirmation | None,
    kind: str = Count.Kind.DAILY,
    notes: str = "",
    counted_at: datetime | None = None,
    by: User,
) -> Count:
    """A two-person count of one safe; a variance opens a discrepancy the same moment."""
    require_same_organization(by, storage_location)
    confirmation = checked_witness(witness, actor=by, field="second_counter")
    registrant = Registrant.objects.select_related("location").get(
        pk=storage_location.registrant_id
    )
    in_scope_ids = list(
        Container.objects.filter(
            storage_location=storage_location,
            status__in=[Container.Status.SEALED, Container.Status.OPEN],
        ).values_list("pk", flat=True)
    )
    locked = lock_containers(in_scope_ids)
    scope = [locked[pk] for pk in sorted(locked)]
    counted = counted_lines(registrant, scope, lines)
    now = checked_time(counted_at)
    flagged = [line for line in counted if line[4]]
    count = Count.objects.create(
        organization_id=registrant.organization_id,
        registrant=registrant,
        storage_location=storage_location,
        kind=kind,
        counted_at=now,
        counted_by=by,
        second_counter=confirmation.witness,
        second_confirmed_at=confirmation.confirmed_at,
        has_variance=bool(flagged),
        notes=notes,
    )
    CountLine.objects.bulk_create(
        CountLine(
            organization_id=registrant.organization_id,
            count=count,
            container=container,
            expected_ml=container.balance_ml,
            counted_ml=value,
            estimated=estimated,
            variance_ml=variance,
            is_discrepancy=is_discrepancy,
        )
        for container, value, estimated, variance, is_discrepancy in counted
    )
    record(
        AuditEvent.Action.LEDGER_COUNTED,
        actor=by,
        subject=count,
        storage=storage_location.name,
        second_counter=confirmation.witness.username,
        containers=len(counted),
        variance=bool(flagged),
    )
    if flagged:
        open_discrepancy(registrant, flagged=flagged, when=now, count=count, by=by)
    return count


def _lock_discrepancy(discrepancy: Discrepancy, *allowed: str) -> Discrepancy:
    locked = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
    if locked.status not in allowed:
        raise LedgerError(
            f"This discrepancy is {locked.get_status_display().lower()}.",
            field="status",
            code="wrong_status",
        )
    return locked


@transaction.atomic
def investigate_discrepancy(
    discrepancy: Discrepancy, *, notes: str, by: User
) -> Discrepancy:
    """Record what the investigation found (the first step after a discrepancy opens)."""
    require_same_organization(by, discrepancy)
    if not notes.strip():
        raise LedgerError(
            "Write down what was checked and found.", field="notes", code="required"
        )
    discrepancy = _lock_discrepancy(
        discrepancy, Discrepancy.Status.OPEN, Discrepancy.Status.INVESTIGATING
    )
    stamp = f"[{timezone.now():%Y-%m-%d %H:%M} UTC, {by.display_name}] "
    discrepancy.investigation_notes = (
        f"{discrepancy.investigation_notes}\n{stamp}{notes.strip()}".strip()
    )
    discrepancy.status = Discrepancy.Status.INVESTIGATING
    discrepancy.investigated_at = timezone.now()
    discrepancy.investigated_by = by
    discrepancy.save(
        update_fields=[
            "investigation_notes",
            "status",
            "investigated_at",
            "investigated_by",
        ]
    )
    record(
        AuditEvent.Action.LEDGER_DISCREPANCY_INVESTIGATED,
        actor=by,
        subject=discrepancy,
        notes=notes,
    )
    return discrepancy


def _settle_lines(
    discrepancy: Discrepancy, *, actor: User, loss: bool, reason: str
) -> list[LedgerEntry]:
    """Bring the ledger to what was counted: adjustments, or theft/loss for shortages."""
    lines = list(discrepancy.lines.select_related("container"))
    locked = lock_containers([line.container_id for line in lines])
    head = lock_head(discrepancy.registrant_id)
    entries = []
    now = timezone.now()
    for line in lines:
        container = locked[line.container_id]
        if line.variance_ml == 0:
            continue
        if container.registrant_id != discrepancy.registrant_id:
            raise LedgerError(
                f"Vial {container.vial_identifier} has moved to another registration.",
                code="container_moved",
            )
        shortage = line.variance_ml < 0
        kind = (
            LedgerEntry.Kind.THEFT_LOSS
            if loss and shortage
            else LedgerEntry.Kind.COUNT_ADJUSTMENT
        )
        entries.append(
            append(
                head,
                Movement(
                    kind=kind,
                    container=container,
                    quantity_ml=abs(line.variance_ml),
                    container_change_ml=line.variance_ml,
                    actor=actor,
                    occurred_at=now,
                    reason=reason,
                    discrepancy=discrepancy,
                    details={
                        "expected_ml": line.expected_ml,
                        "counted_ml": line.counted_ml,
                    },
                ),
            )
        )
    return entries


@transaction.atomic
def resolve_minor_variance(
    discrepancy: Discrepancy, *, notes: str, by: User
) -> Discrepancy:
    """Close as a documented minor variance (no Form 106, D9) and adjust the ledger."""
    require_same_organization(by, discrepancy)
    if not notes.strip():
        raise LedgerError(
            "Document why this is a minor variance.", field="notes", code="required"
        )
    discrepancy = _lock_discrepancy(discrepancy, Discrepancy.Status.INVESTIGATING)
    entries = _settle_lines(
        discrepancy,
        actor=by,
        loss=False,
        reason=f"Minor variance: {notes.strip()}",
    )
    discrepancy.status = Discrepancy.Status.RESOLVED_MINOR
    discrepancy.resolution_notes = notes.strip()
    discrepancy.closed_at = timezone.now()
    discrepancy.closed_by = by
    discrepancy.save(
        update_fields=["status", "resolution_notes", "closed_at", "closed_by"]
    )
    record(
        AuditEvent.Action.LEDGER_DISCREPANCY_RESOLVED,
        actor=by,
        subject=discrepancy,
        notes=notes,
        adjustments=[e.seq for e in entries],
    )
    return discrepancy


@transaction.atomic
def escalate_significant_loss(
    discrepancy: Discrepancy,
    *,
    loss_kind: str,
    notes: str,
    holidays: Sequence[date] = (),
    by: User,
) -> Discrepancy:
    """Escalate as theft or significant loss: the DEA notice task (1 business day), the
    Form 106 task and draft (45 days), and the ledger takes the loss."""
    require_same_organization(by, discrepancy)
    if loss_kind not in Discrepancy.LossKind.values:
        raise LedgerError(
            "Choose theft, significant loss or lost in transit.",
            field="loss_kind",
            code="invalid",
        )
    if not notes.strip():
        raise LedgerError(
            "Describe what happened and why it is significant.",
            field="notes",
            code="required",
        )
    discrepancy = _lock_discrepancy(
        discrepancy, Discrepancy.Status.OPEN, Discrepancy.Status.INVESTIGATING
    )
    registrant = Registrant.objects.select_related("location").get(
        pk=discrepancy.registrant_id
    )
    due = discrepancy_due_dates(
        discrepancy.discovered_at,
        clinic_timezone=ZoneInfo(registrant.location.time_zone),
        holidays=holidays,
    )
    entries = _settle_lines(
        discrepancy,
        actor=by,
        loss=True,
        reason=f"{Discrepancy.LossKind(loss_kind).label}: {notes.strip()}",
    )
    discrepancy.status = Discrepancy.Status.ESCALATED
    discrepancy.loss_kind = loss_kind
    discrepancy.resolution_notes = notes.strip()
    discrepancy.closed_at = timezone.now()
    discrepancy.closed_by = by
    discrepancy.save(
        update_fields=[
            "status",
            "loss_kind",
            "resolution_notes",
            "closed_at",
            "closed_by",
        ]
    )
    for kind, due_date in (
        (ComplianceTask.Kind.DEA_NOTICE, due.dea_notice_due_date),
        (ComplianceTask.Kind.FORM_106, due.form_106_due_date),
    ):
        ComplianceTask.objects.create(
            organization_id=registrant.organization_id,
            registrant=registrant,
            discrepancy=discrepancy,
            kind=kind,
            due_date=due_date,
        )
    items = [
        {
            "vial": line.container.vial_identifier,
            "product": line.container.product.name,
            "ndc": line.container.product.ndc,
            "strength": f"{line.container.product.concentration_mg_per_ml.normalize():f} mg/mL",
            "form": line.container.product.dosage_form,
            "container_volume_ml": str(line.container.initial_volume_ml),
            "lot": line.container.lot.lot_number,
            "quantity_lost_ml": str(-line.variance_ml),
            "quantity_lost_mg": str(
                mg_from_ml(
                    volume_ml=-line.variance_ml,
                    concentration_mg_per_ml=line.container.product.concentration_mg_per_ml,
                )
            ),
        }
        for line in discrepancy.lines.select_related(
            "container__product", "container__lot"
        )
        if line.variance_ml < 0
    ]
    Form106Draft.objects.create(
        organization_id=registrant.organization_id,
        discrepancy=discrepancy,
        registrant_name=registrant.name,
        registrant_address=registrant.address,
        registrant_dea_number=registrant.dea_number,
        discovered_date=local_date(registrant, discrepancy.discovered_at),
        due_date=due.form_106_due_date,
        loss_kind=loss_kind,
        items=items,
        narrative=notes.strip(),
    )
    record(
        AuditEvent.Action.LEDGER_DISCREPANCY_ESCALATED,
        actor=by,
        subject=discrepancy,
        loss_kind=loss_kind,
        dea_notice_due_date=due.dea_notice_due_date,
        form_106_due_date=due.form_106_due_date,
        entries=[e.seq for e in entries],
    )
    notify_custodians(
        registrant.organization_id,
        "Theft or significant loss: DEA notice due",
        f"A discrepancy at {registrant.name} ({registrant.dea_number}) was escalated as "
        f"{Discrepancy.LossKind(loss_kind).label.lower()}. Written notice to the DEA Field "
        f"Division Office is due by {due.dea_notice_due_date:%A %d %B %Y}; DEA Form 106 by "
        f"{due.form_106_due_date:%d %B %Y}. The Form 106 draft is in the ledger.",
    )
    return discrepancy


@transaction.atomic
def complete_task(task: ComplianceTask, *, reference: str, by: User) -> ComplianceTask:
    require_same_organization(by, task)
    task = ComplianceTask.objects.select_for_update().get(pk=task.pk)
    if task.status == ComplianceTask.Status.DONE:
        raise LedgerError(
            "This task is already done.", field="status", code="wrong_status"
        )
    if not reference.strip():
        raise LedgerError(
            "Give a reference (e.g. the TLR confirmation number or the date the notice was sent).",
            field="reference",
            code="required",
        )
    task.status = ComplianceTask.Status.DONE
    task.done_at = timezone.now()
    task.done_by = by
    task.reference = reference.strip()
    task.save(update_fields=["status", "done_at", "done_by", "reference"])
    record(
        AuditEvent.Action.LEDGER_TASK_DONE,
        actor=by,
        subject=task,
        kind=task.kind,
        reference=task.reference,
    )
    return task
