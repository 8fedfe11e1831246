"""Reference data (registrations, safes, products, suppliers), vials, and the chain of entries."""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from neuroclinic.accounts.roles import Capability
from neuroclinic.api_pages import Pages
from neuroclinic.ledger.api.access import Needs, get_own, staff_user
from neuroclinic.ledger.api.serialize import (
    container_out,
    entry_out,
    registrant_out,
    with_entry_relations,
)
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    Product,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.schemas import (
    ContainerOut,
    EntryOut,
    ProductOut,
    RegistrantOut,
    StorageLocationOut,
    SupplierOut,
)

router = Router()


# --- reference data -------------------------------------------------------------------


@router.get(
    "/registrants", response=list[RegistrantOut], auth=Needs(Capability.LEDGER_VIEW)
)
def list_registrants(request: HttpRequest) -> list[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    return [
        registrant_out(r)
        for r in Registrant.objects.filter(organization_id=user.organization_pk)
        .select_related("location", "head")
        .order_by("name", "id")
    ]


@router.get(
    "/storage-locations",
    response=list[StorageLocationOut],
    auth=Needs(Capability.LEDGER_VIEW),
)
def list_storage_locations(request: HttpRequest) -> list[dict[str, Any]]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    return [
        {
            "uuid": s.uuid,
            "name": s.name,
            "description": s.description,
            "registrant": s.registrant.uuid,
            "is_active": s.is_active,
        }
        for s in StorageLocation.objects.filter(organization_id=user.organization_pk)
        .select_related("registrant")
        .order_by("registrant_id", "name", "id")
    ]


@router.get("/products", response=list[ProductOut], auth=Needs(Capability.LEDGER_VIEW))
def list_products(request: HttpRequest) -> QuerySet[Product]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    return Product.objects.filter(organization_id=user.organization_pk, is_active=True)


@router.get(
    "/suppliers", response=list[SupplierOut], auth=Needs(Capability.LEDGER_VIEW)
)
def list_suppliers(request: HttpRequest) -> QuerySet[Supplier]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    return Supplier.objects.filter(organization_id=user.organization_pk, is_active=True)


# --- stock and entries ------------------------------------------------------------


class ContainerFilter(Schema):
    registrant: UUID | None = None
    in_stock: bool = True


@router.get(
    "/containers", response=list[ContainerOut], auth=Needs(Capability.LEDGER_VIEW)
)
def list_containers(
    request: HttpRequest, filters: Query[ContainerFilter]
) -> list[dict[str, Any]]:
    """Vials: on hand by default (sealed or opened), soonest expiry first."""
    user = staff_user(request, Capability.LEDGER_VIEW)
    containers = Container.objects.filter(
        organization_id=user.organization_pk
    ).select_related("registrant", "product", "lot", "storage_location")
    if filters.registrant is not None:
        containers = containers.filter(registrant__uuid=filters.registrant)
    if filters.in_stock:
        containers = containers.filter(
            status__in=[Container.Status.SEALED, Container.Status.OPEN]
        )
    return [container_out(c) for c in containers]


@router.get(
    "/containers/{container_id}",
    response=ContainerOut,
    auth=Needs(Capability.LEDGER_VIEW),
)
def read_container(request: HttpRequest, container_id: UUID) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    return container_out(get_own(Container, user, container_id))


class EntryFilter(Schema):
    registrant: UUID | None = None
    kind: str | None = None
    container: UUID | None = None
    session_ref: UUID | None = None


@router.get("/entries", response=list[EntryOut], auth=Needs(Capability.LEDGER_VIEW))
@paginate(Pages, page_size=100)
def list_entries(request: HttpRequest, filters: Query[EntryFilter]) -> Any:
    """The chain, newest first."""
    user = staff_user(request, Capability.LEDGER_VIEW)
    entries = with_entry_relations(
        LedgerEntry.objects.filter(organization_id=user.organization_pk)
    )
    if filters.registrant is not None:
        entries = entries.filter(registrant__uuid=filters.registrant)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.container is not None:
        entries = entries.filter(container__uuid=filters.container)
    if filters.session_ref is not None:
        entries = entries.filter(session_ref=str(filters.session_ref))
    return _EntryPage(entries.order_by("-recorded_at", "-seq"))


class _EntryPage:
    """A lazily sliced queryset that pagination can count and slice, serialised per page."""

    def __init__(self, entries: QuerySet[LedgerEntry]) -> None:
        self.entries = entries

    def count(self) -> int:
        return self.entries.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return [entry_out(e) for e in self.entries[index]]


@router.get(
    "/entries/{entry_id}", response=EntryOut, auth=Needs(Capability.LEDGER_VIEW)
)
def read_entry(request: HttpRequest, entry_id: UUID) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    return entry_out(get_own(LedgerEntry, user, entry_id))
