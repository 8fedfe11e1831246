"""Read-only answers the ledger pages, the API and the nightly check share."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Discrepancy,
    Inventory,
    LedgerCheck,
    Registrant,
)
from neuroclinic.ledger.rules import biennial_inventory_due

REMIND_DAYS_BEFORE = 30


@dataclass(frozen=True)
class InventoryStatus:
    last_date: date | None
    last_kind: str
    due_date: date | None  # None: no initial inventory yet
    today: date

    @property
    def has_initial(self) -> bool:
        return self.last_date is not None

    @property
    def overdue(self) -> bool:
        return self.due_date is not None and self.today > self.due_date

    @property
    def due_soon(self) -> bool:
        return (
            self.due_date is not None
            and not self.overdue
            and self.due_date - self.today <= timedelta(days=REMIND_DAYS_BEFORE)
        )

    @property
    def days_left(self) -> int | None:
        return (self.due_date - self.today).days if self.due_date else None


def _status(
    registrant: Registrant, last_date: date | None, last_kind: str
) -> InventoryStatus:
    today = local_date(registrant, timezone.now())
    if last_date is None:
        return InventoryStatus(last_date=None, last_kind="", due_date=None, today=today)
    return InventoryStatus(
        last_date=last_date,
        last_kind=Inventory.Kind(last_kind).label,
        due_date=biennial_inventory_due(last_date),
        today=today,
    )


def _last_inventories() -> QuerySet[Inventory]:
    """Initial and biennial inventories (the ones the biennial clock runs from), newest first."""
    return Inventory.objects.filter(
        kind__in=[Inventory.Kind.INITIAL, Inventory.Kind.BIENNIAL]
    ).order_by("-taken_date", "-id")


def inventory_status(registrant: Registrant) -> InventoryStatus:
    last = _last_inventories().filter(registrant=registrant).first()
    if last is None:
        return _status(registrant, None, "")
    return _status(registrant, last.taken_date, last.kind)


def inventory_statuses(
    registrants: QuerySet[Registrant],
) -> list[tuple[Registrant, InventoryStatus]]:
    """`inventory_status` for many registrants in one query."""
    last = _last_inventories().filter(registrant=OuterRef("pk"))
    annotated = registrants.select_related("location").annotate(
        last_inventory_date=Subquery(last.values("taken_date")[:1]),
        last_inventory_kind=Subquery(last.values("kind")[:1]),
    )
    return [
        (r, _status(r, r.last_inventory_date, r.last_inventory_kind or ""))
        for r in annotated
    ]


def latest_check(registrant: Registrant) -> LedgerCheck | None:
    return (
        LedgerCheck.objects.filter(registrant=registrant)
        .order_by("-ran_at", "-id")
        .first()
    )


def latest_checks(registrants: QuerySet[Registrant]) -> list[LedgerCheck]:
    """Each registrant's `latest_check` (those that have one), in two queries."""
    newest = (
        LedgerCheck.objects.filter(registrant=OuterRef("pk"))
        .order_by("-ran_at", "-id")
        .values("pk")[:1]
    )
    ids = [
        pk
        for pk in registrants.annotate(check_id=Subquery(newest)).values_list(
            "check_id", flat=True
        )
        if pk is not None
    ]
    found = LedgerCheck.objects.select_related("registrant").in_bulk(ids)
    return [found[pk] for pk in ids]


def registrants_for(user: User) -> QuerySet[Registrant]:
    return Registrant.objects.filter(
        organization_id=user.organization_pk
    ).select_related("location", "head")


def stock(registrant: Registrant) -> QuerySet[Container]:
    """Vials on hand: sealed or opened, soonest expiry first. The page's balance query."""
    return (
        Container.objects.filter(
            registrant=registrant,
            status__in=[Container.Status.SEALED, Container.Status.OPEN],
        )
        .select_related("product", "lot", "storage_location")
        .order_by("storage_location__name", "lot__expiry_date", "vial_identifier", "id")
    )


def open_discrepancies(registrant: Registrant) -> QuerySet[Discrepancy]:
    return Discrepancy.objects.filter(
        registrant=registrant,
        status__in=[Discrepancy.Status.OPEN, Discrepancy.Status.INVESTIGATING],
    ).order_by("discovered_at", "id")


def open_tasks(registrant: Registrant) -> QuerySet[ComplianceTask]:
    return (
        ComplianceTask.objects.filter(
            registrant=registrant, status=ComplianceTask.Status.OPEN
        )
        .select_related("discrepancy")
        .order_by("due_date", "id")
    )
