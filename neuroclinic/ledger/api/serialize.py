"""The ledger's records as the API returns them (the Out schemas in schemas.py)."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    Discrepancy,
    DiscrepancyLine,
    Inventory,
    LedgerCheck,
    LedgerEntry,
    Receipt,
    Registrant,
)


def container_out(c: Container) -> dict[str, Any]:
    return {
        "uuid": c.uuid,
        "vial_identifier": c.vial_identifier,
        "registrant": c.registrant.uuid,
        "product": c.product.uuid,
        "product_name": c.product.name,
        "ndc": c.product.ndc,
        "lot_number": c.lot.lot_number,
        "expiry_date": c.lot.expiry_date,
        "storage_location": c.storage_location.name,
        "status": c.status,
        "initial_volume_ml": c.initial_volume_ml,
        "balance_ml": c.balance_ml,
        "balance_mg": c.balance_mg,
        "received_at": c.received_at,
        "opened_at": c.opened_at,
    }


def entry_out(e: LedgerEntry) -> dict[str, Any]:
    return {
        "uuid": e.uuid,
        "seq": e.seq,
        "registrant": e.registrant.uuid,
        "kind": e.kind,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "container": e.container.uuid,
        "vial_identifier": e.container.vial_identifier,
        "lot_number": e.lot.lot_number,
        "quantity_ml": e.quantity_ml,
        "quantity_mg": e.quantity_mg,
        "container_change_ml": e.container_change_ml,
        "session_change_ml": e.session_change_ml,
        "container_balance_after_ml": e.container_balance_after_ml,
        "lot_balance_after_ml": e.lot_balance_after_ml,
        "session_balance_after_ml": e.session_balance_after_ml,
        "stock_on_hand_after_mg": e.stock_on_hand_after_mg,
        "session_ref": e.session_ref,
        "patient": e.patient.uuid if e.patient else None,
        "actor": e.actor.username,
        "witness": e.witness.username if e.witness else None,
        "witness_confirmed_at": e.witness_confirmed_at,
        "reason": e.reason,
        "reverses": e.reverses.uuid if e.reverses else None,
        "details": e.details,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def with_entry_relations(queryset: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    return queryset.select_related(
        "registrant", "container", "lot", "patient", "actor", "witness", "reverses"
    )


def entry_list(entries: list[LedgerEntry]) -> list[dict[str, Any]]:
    fresh = with_entry_relations(
        LedgerEntry.objects.filter(pk__in=[e.pk for e in entries])
    ).order_by("registrant_id", "seq")
    return [entry_out(e) for e in fresh]


def registrant_out(r: Registrant) -> dict[str, Any]:
    return {
        "uuid": r.uuid,
        "name": r.name,
        "address": r.address,
        "dea_number": r.dea_number,
        "schedules": r.schedules,
        "location": r.location.uuid,
        "head_seq": r.head.seq,
        "head_hash": r.head.hash,
        "stock_on_hand_mg": r.head.stock_on_hand_mg,
    }


def receipt_out(receipt: Receipt) -> dict[str, Any]:
    containers = receipt.containers.select_related(
        "registrant", "product", "lot", "storage_location"
    ).order_by("id")
    return {
        "uuid": receipt.uuid,
        "registrant": receipt.registrant.uuid,
        "supplier_name": receipt.supplier_name,
        "supplier_address": receipt.supplier_address,
        "supplier_dea_number": receipt.supplier_dea_number,
        "invoice_number": receipt.invoice_number,
        "invoice_date": receipt.invoice_date,
        "received_at": receipt.received_at,
        "received_by": receipt.received_by.username,
        "has_scan": bool(receipt.invoice_scan),
        "scan_sha256": receipt.scan_sha256,
        "containers": [container_out(c) for c in containers],
    }


def count_out(count: Count) -> dict[str, Any]:
    discrepancy = count.discrepancies.first()
    return {
        "uuid": count.uuid,
        "kind": count.kind,
        "counted_at": count.counted_at,
        "counted_by": count.counted_by.username,
        "second_counter": count.second_counter.username,
        "has_variance": count.has_variance,
        "discrepancy": discrepancy.uuid if discrepancy else None,
        "lines": [
            {
                "vial_identifier": line.container.vial_identifier,
                "expected_ml": line.expected_ml,
                "counted_ml": line.counted_ml,
                "estimated": line.estimated,
                "variance_ml": line.variance_ml,
                "is_discrepancy": line.is_discrepancy,
            }
            for line in count.lines.select_related("container")
        ],
    }


def inventory_out(inventory: Inventory) -> dict[str, Any]:
    return {
        "uuid": inventory.uuid,
        "kind": inventory.kind,
        "taken_at": inventory.taken_at,
        "taken_date": inventory.taken_date,
        "time_of_day": inventory.time_of_day,
        "taken_by": inventory.taken_by.username,
        "second_taker": inventory.second_taker.username
        if inventory.second_taker
        else None,
        "registrant_name": inventory.registrant_name,
        "registrant_address": inventory.registrant_address,
        "registrant_dea_number": inventory.registrant_dea_number,
        "lines": [
            {
                "product_name": line.product_name,
                "ndc": line.ndc,
                "strength": line.strength,
                "dosage_form": line.dosage_form,
                "container_volume_ml": line.container_volume_ml,
                "lot_number": line.lot_number,
                "vial_identifier": line.container.vial_identifier,
                "opened": line.opened,
                "estimated": line.estimated,
                "quantity_ml": line.quantity_ml,
                "quantity_mg": line.quantity_mg,
            }
            for line in inventory.lines.select_related("container")
        ],
    }


def task_out(task: ComplianceTask) -> dict[str, Any]:
    return {
        "uuid": task.uuid,
        "kind": task.kind,
        "title": task.get_kind_display(),
        "due_date": task.due_date,
        "status": task.status,
        "reference": task.reference,
    }


def with_discrepancy_details(
    queryset: QuerySet[Discrepancy],
) -> QuerySet[Discrepancy]:
    """What discrepancy_out reads, fetched with the discrepancies: a fixed number of queries."""
    return queryset.select_related("discovered_by", "form_106").prefetch_related(
        Prefetch("lines", queryset=DiscrepancyLine.objects.select_related("container")),
        "tasks",
    )


def discrepancy_out(d: Discrepancy) -> dict[str, Any]:
    """Give it a discrepancy from with_discrepancy_details."""
    form_106 = getattr(d, "form_106", None)
    return {
        "uuid": d.uuid,
        "status": d.status,
        "discovered_at": d.discovered_at,
        "discovered_by": d.discovered_by.username,
        "variance_ml": d.variance_ml,
        "variance_mg": d.variance_mg,
        "investigation_notes": d.investigation_notes,
        "resolution_notes": d.resolution_notes,
        "loss_kind": d.loss_kind,
        "closed_at": d.closed_at,
        "lines": [
            {
                "vial_identifier": line.container.vial_identifier,
                "expected_ml": line.expected_ml,
                "counted_ml": line.counted_ml,
                "variance_ml": line.variance_ml,
            }
            for line in d.lines.all()
        ],
        "tasks": [task_out(t) for t in d.tasks.all()],
        "form_106": None
        if form_106 is None
        else {
            "registrant_name": form_106.registrant_name,
            "registrant_address": form_106.registrant_address,
            "registrant_dea_number": form_106.registrant_dea_number,
            "discovered_date": form_106.discovered_date,
            "due_date": form_106.due_date,
            "loss_kind": form_106.loss_kind,
            "items": form_106.items,
            "narrative": form_106.narrative,
        },
    }


def check_out(check: LedgerCheck) -> dict[str, Any]:
    return {
        "uuid": check.uuid,
        "registrant": check.registrant.uuid,
        "ran_at": check.ran_at,
        "source": check.source,
        "ok": check.ok,
        "entries_checked": check.entries_checked,
        "first_bad_seq": check.first_bad_seq,
        "problem": check.problem,
        "head_seq": check.head_seq,
        "head_hash": check.head_hash,
    }
