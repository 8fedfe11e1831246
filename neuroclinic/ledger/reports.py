"""Reports for a DEA inspection, for any date range: one table each, as HTML, CSV and JSON.

Dates are calendar dates at the registered location. The administration log
carries the patient's name and address (21 CFR 1304.22(c)), so opening or
exporting a report is audited by the caller (actions.record_report_access).
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from neuroclinic.ledger.models import (
    Discrepancy,
    Inventory,
    LedgerEntry,
    Registrant,
)


class ReportKind(StrEnum):
    ADMINISTRATIONS = "administrations"
    RECEIPTS = "receipts"
    DISPOSALS = "disposals"
    LOTS = "lots"
    BALANCES = "balances"
    DISCREPANCIES = "discrepancies"

    @property
    def label(self) -> str:
        return REPORT_TITLES[self]


REPORT_TITLES = {
    ReportKind.ADMINISTRATIONS: "Administration log",
    ReportKind.RECEIPTS: "Receipts",
    ReportKind.DISPOSALS: "Disposals, wastes and losses",
    ReportKind.LOTS: "Per-lot history",
    ReportKind.BALANCES: "Running balances",
    ReportKind.DISCREPANCIES: "Discrepancies",
}

DISPOSAL_KINDS = [
    LedgerEntry.Kind.WASTE,
    LedgerEntry.Kind.DESTRUCTION,
    LedgerEntry.Kind.REVERSE_DISTRIBUTOR,
    LedgerEntry.Kind.THEFT_LOSS,
]


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    registrant: Registrant
    start_date: date
    end_date: date
    columns: list[str]
    rows: list[list[str]]

    @property
    def title(self) -> str:
        return self.kind.label

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                f"{self.title}: {self.registrant.name}, DEA {self.registrant.dea_number}, "
                f"{self.start_date:%Y-%m-%d} to {self.end_date:%Y-%m-%d}"
            ]
        )
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_csv_safe(cell) for cell in row])
        return out.getvalue()

    def as_dicts(self) -> list[dict[str, str]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _csv_safe(cell: str) -> str:
    # A spreadsheet would run a cell starting with these as a formula.
    return (
        f"'{cell}"
        if cell[:1] in ("=", "+", "-", "@") and not _is_number(cell)
        else cell
    )


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _tz(registrant: Registrant) -> ZoneInfo:
    return ZoneInfo(registrant.location.time_zone)


def _range(registrant: Registrant, start: date, end: date) -> tuple[datetime, datetime]:
    zone = _tz(registrant)
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _entries(
    registrant: Registrant, start: date, end: date, kinds: Iterable[str] | None = None
) -> QuerySet[LedgerEntry]:
    since, until = _range(registrant, start, end)
    entries = LedgerEntry.objects.filter(
        registrant=registrant, occurred_at__gte=since, occurred_at__lt=until
    ).select_related("container", "lot", "product", "patient", "witness", "actor")
    if kinds is not None:
        entries = entries.filter(kind__in=list(kinds))
    return entries


def _local(registrant: Registrant, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f"{moment.astimezone(_tz(registrant)):%Y-%m-%d %H:%M}"


def _q(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _administrations(
    registrant: Registrant, start: date, end: date
) -> tuple[list[str], list[list[str]]]:
    columns = [
        "Date",
        "Patient",
        "Patient address",
        "Product",
        "Strength",
        "Lot",
        "Vial",
        "mL",
        "mg",
        "Administered by",
        "Session",
        "Entry",
    ]
    rows = []
    for e in _entries(registrant, start, end, [LedgerEntry.Kind.ADMINISTER]).order_by(
        "occurred_at", "seq"
    ):
        patient = e.patient
        address = (
            ", ".join(
                part
                for part in (
                    patient.address_line1,
                    patient.address_line2,
                    patient.city,
                    f"{patient.state} {patient.postal_code}".strip(),
                )
                if part
            )
            if patient
            else ""
        )
        rows.append(
            [
                _local(registrant, e.occurred_at),
                patient.legal_name if patient else "",
                address,
                e.product.name,
                f"{e.product.concentration_mg_per_ml.normalize():f} mg/mL",
                e.lot.lot_number,
                e.container.vial_identifier,
                _q(e.quantity_ml),
                _q(e.quantity_mg),
                e.actor_name,
                e.session_ref,
                f"#{e.seq}",
            ]
        )
    return columns, rows


def _receipts(
    registrant: Registrant, start: date, end: date
) -> tuple[list[str], list[list[str]]]:
    columns = [
        "Date received",
        "Supplier",
        "Supplier address",
        "Supplier DEA",
        "Invoice",
        "Invoice date",
        "Product",
        "NDC",
        "Lot",
        "Expiry",
        "Containers",
        "mL per container",
        "Total mL",
        "Total mg",
        "Received by",
    ]
    groups: dict[tuple[int, int], list[LedgerEntry]] = {}
    for e in (
        _entries(registrant, start, end, [LedgerEntry.Kind.RECEIVE])
        .select_related("receipt")
        .order_by("occurred_at", "seq")
    ):
        groups.setdefault((e.receipt_id or 0, e.lot_id), []).append(e)
    rows = []
    for entries in groups.values():
        first = entries[0]
        receipt = first.receipt
        rows.append(
            [
                _local(registrant, first.occurred_at),
                receipt.supplier_name if receipt else "",
                receipt.supplier_address if receipt else "",
                receipt.supplier_dea_number if receipt else "",
                receipt.invoice_number if receipt else "",
                f"{receipt.invoice_date:%Y-%m-%d}" if receipt else "",
                first.product.name,
                first.product.ndc,
                first.lot.lot_number,
                f"{first.lot.expiry_date:%Y-%m-%d}",
                str(len(entries)),
                _q(first.quantity_ml),
                _q(sum((e.quantity_ml for e in entries), Decimal(0))),
                _q(sum((e.quantity_mg for e in entries), Decimal(0))),
                first.actor_name,
            ]
        )
    return columns, rows


def _manner(e: LedgerEntry) -> str:
    details = e.details or {}
    if e.kind == LedgerEntry.Kind.DESTRUCTION:
        return f"Destroyed on site: {details.get('method', '')}"
    if e.kind == LedgerEntry.Kind.REVERSE_DISTRIBUTOR:
        return (
            f"Reverse distributor {details.get('reverse_distributor_name', '')}, "
            f"{details.get('reverse_distributor_address', '')}, "
            f"DEA {details.get('reverse_distributor_dea_number', '')}"
        )
    if e.kind == LedgerEntry.Kind.THEFT_LOSS:
        return "Theft or loss"
    return "Wasted (session remainder)" if e.session_ref else "Wasted from vial"


def _disposals(
    registrant: Registrant, start: date, end: date
) -> tuple[list[str], list[list[str]]]:
    columns = [
        "Date",
        "Kind",
        "Manner",
        "Product",
        "Lot",
        "Vial",
        "mL",
        "mg",
        "By",
        "Witness",
        "Reason",
        "Session",
        "Entry",
    ]
    rows = [
        [
            _local(registrant, e.occurred_at),
            e.get_kind_display(),
            _manner(e),
            e.product.name,
            e.lot.lot_number,
            e.container.vial_identifier,
            _q(e.quantity_ml),
            _q(e.quantity_mg),
            e.actor_name,
            e.witness_name,
            e.reason,
            e.session_ref,
            f"#{e.seq}",
        ]
        for e in _entries(registrant, start, end, DISPOSAL_KINDS).order_by(
            "occurred_at", "seq"
        )
    ]
    return columns, rows


def _signed(value: Decimal) -> str:
    return f"{value:+.2f}" if value else "0.00"


def _lots(
    registrant: Registrant, start: date, end: date
) -> tuple[list[str], list[list[str]]]:
    columns = [
        "Lot",
        "Expiry",
        "Product",
        "Date",
        "Entry",
        "Kind",
        "Vial",
        "Change mL",
        "Lot balance after mL",
        "By",
        "Witness",
    ]
    rows = [
        [
            e.lot.lot_number,
            f"{e.lot.expiry_date:%Y-%m-%d}",
            e.product.name,
            _local(registrant, e.occurred_at),
            f"#{e.seq}",
            e.get_kind_display(),
            e.container.vial_identifier,
            _signed(e.container_change_ml),
            _q(e.lot_balance_after_ml),
            e.actor_name,
            e.witness_name,
        ]
        for e in _entries(registrant, start, end).order_by("lot__lot_number", "seq")
    ]
    return columns, rows


def _balances(
    registrant: Registrant, start: date, end: date
) -> tuple[list[str], list[list[str]]]:
    columns = [
        "Entry",
        "Date",
        "Kind",
        "Vial",
        "Lot",
        "Change mL",
        "Vial balance after mL",
        "Lot balance after mL",
        "Session outstanding after mL",
        "Stock on hand after mg",
        "By",
    ]
    rows = [
        [
            f"#{e.seq}",
            _local(registrant, e.occurred_at),
            e.get_kind_display(),
            e.container.vial_identifier,
            e.lot.lot_number,
            _signed(e.container_change_ml),
            _q(e.container_balance_after_ml),
            _q(e.lot_balance_after_ml),
            _q(e.session_balance_after_ml),
            _q(e.stock_on_hand_after_mg),
            e.actor_name,
        ]
        for e in _entries(registrant, start, end).order_by("seq")
    ]
    return columns, rows


def _discrepancies(
    registrant: Registrant, start: date, end: date
) -> tuple[list[str], list[list[str]]]:
    columns = [
        "Discovered",
        "Status",
        "Variance mL",
        "Variance mg",
        "Vials",
        "Investigation",
        "Resolution",
        "Loss kind",
        "Closed",
        "DEA notice due",
        "Form 106 due",
    ]
    since, until = _range(registrant, start, end)
    rows = []
    for d in (
        Discrepancy.objects.filter(
            registrant=registrant, discovered_at__gte=since, discovered_at__lt=until
        )
        .prefetch_related("lines__container", "tasks")
        .order_by("discovered_at", "id")
    ):
        due = {t.kind: f"{t.due_date:%Y-%m-%d}" for t in d.tasks.all()}
        rows.append(
            [
                _local(registrant, d.discovered_at),
                d.get_status_display(),
                _q(d.variance_ml),
                _q(d.variance_mg),
                ", ".join(
                    f"{line.container.vial_identifier} ({line.variance_ml:+.2f})"
                    for line in d.lines.all()
                ),
                d.investigation_notes,
                d.resolution_notes,
                d.get_loss_kind_display() if d.loss_kind else "",
                _local(registrant, d.closed_at),
                due.get("dea_notice", ""),
                due.get("form_106", ""),
            ]
        )
    return columns, rows


BUILDERS: dict[
    ReportKind,
    Callable[[Registrant, date, date], tuple[list[str], list[list[str]]]],
] = {
    ReportKind.ADMINISTRATIONS: _administrations,
    ReportKind.RECEIPTS: _receipts,
    ReportKind.DISPOSALS: _disposals,
    ReportKind.LOTS: _lots,
    ReportKind.BALANCES: _balances,
    ReportKind.DISCREPANCIES: _discrepancies,
}


def build_report(
    kind: ReportKind, registrant: Registrant, start: date, end: date
) -> Report:
    columns, rows = BUILDERS[kind](registrant, start, end)
    return Report(
        kind=kind,
        registrant=registrant,
        start_date=start,
        end_date=end,
        columns=columns,
        rows=rows,
    )


# --- inventories --------------------------------------------------------------------

INVENTORY_COLUMNS = [
    "Product",
    "NDC",
    "Strength",
    "Form",
    "mL per container",
    "Lot",
    "Opened",
    "Vial",
    "Quantity mL",
    "Quantity mg",
    "Measured",
]


def inventory_rows(inventory: Inventory) -> list[list[str]]:
    return [
        [
            line.product_name,
            line.ndc,
            line.strength,
            line.dosage_form,
            _q(line.container_volume_ml),
            line.lot_number,
            "opened" if line.opened else "sealed",
            line.container.vial_identifier,
            _q(line.quantity_ml),
            _q(line.quantity_mg),
            "estimated" if line.estimated else "exact",
        ]
        for line in inventory.lines.select_related("container").order_by(
            "product_name", "opened", "lot_number", "id"
        )
    ]


@dataclass(frozen=True)
class InventorySummaryLine:
    product_name: str
    ndc: str
    strength: str
    dosage_form: str
    container_volume_ml: Decimal
    opened: bool
    containers: int
    quantity_ml: Decimal
    quantity_mg: Decimal


def inventory_summary(inventory: Inventory) -> list[InventorySummaryLine]:
    """Per product and sealed/opened: number of containers and total quantity (1304.11(e))."""
    groups: dict[tuple[str, bool], list[InventorySummaryLine]] = {}
    for line in inventory.lines.order_by("product_name", "opened", "id"):
        groups.setdefault((line.ndc, line.opened), []).append(
            InventorySummaryLine(
                product_name=line.product_name,
                ndc=line.ndc,
                strength=line.strength,
                dosage_form=line.dosage_form,
                container_volume_ml=line.container_volume_ml,
                opened=line.opened,
                containers=1,
                quantity_ml=line.quantity_ml,
                quantity_mg=line.quantity_mg,
            )
        )
    return [
        InventorySummaryLine(
            product_name=items[0].product_name,
            ndc=items[0].ndc,
            strength=items[0].strength,
            dosage_form=items[0].dosage_form,
            container_volume_ml=items[0].container_volume_ml,
            opened=items[0].opened,
            containers=len(items),
            quantity_ml=sum((i.quantity_ml for i in items), Decimal(0)),
            quantity_mg=sum((i.quantity_mg for i in items), Decimal(0)),
        )
        for items in groups.values()
    ]


def inventory_csv(inventory: Inventory) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            f"{inventory.get_kind_display()}: {inventory.registrant_name}, "
            f"{inventory.registrant_address}, DEA {inventory.registrant_dea_number}"
        ]
    )
    writer.writerow(
        [
            f"Taken {inventory.taken_date:%Y-%m-%d} at the "
            f"{inventory.get_time_of_day_display().lower()} by "
            f"{inventory.taken_by.display_name}"
            + (
                f" and {inventory.second_taker.display_name}"
                if inventory.second_taker
                else ""
            )
        ]
    )
    writer.writerow(INVENTORY_COLUMNS)
    rows = inventory_rows(inventory)
    for row in rows:
        writer.writerow([_csv_safe(cell) for cell in row])
    if not rows:
        writer.writerow(["No controlled substances on hand (zero inventory)."])
    return out.getvalue()
