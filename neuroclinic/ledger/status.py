"""Read-only answers the ledger pages, the API and the nightly check share."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
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


def inventory_status(registrant: Registrant) -> InventoryStatus:
    last = (
        Inventory.objects.filter(
            registrant=registrant,
            kind__in=[Inventory.Kind.INITIAL, Inventory.Kind.BIENNIAL],
        )
        .order_by("-taken_date", "-id")
        .first()
    )
    today = local_date(registrant, timezone.now())
    if last is None:
        return InventoryStatus(last_date=None, last_kind="", due_date=None, today=today)
    return InventoryStatus(
        last_date=last.taken_date,
        last_kind=last.get_kind_display(),
        due_date=biennial_inventory_due(last.taken_date),
        today=today,
    )


def latest_check(registrant: Registrant) -> LedgerCheck | None:
    return (
        LedgerCheck.objects.filter(registrant=registrant)
        .order_by("-ran_at", "-id")
        .first()
    )


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
    return ComplianceTask.objects.filter(
        registrant=registrant, status=ComplianceTask.Status.OPEN
    ).order_by("due_date", "id")
