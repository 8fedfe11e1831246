"""A registered clinic with a safe, a ketamine product, a supplier and two vials."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.ledger import authority
from neuroclinic.ledger.actions.sessions import (
    draw_for_session,
    record_administration,
    waste_remainder,
)
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    Product,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.tests import factories
from neuroclinic.patients.models import Patient


@dataclass
class Stock:
    registrant: Registrant
    safe: StorageLocation
    product: Product
    supplier: Supplier
    vials: list[Container]


@pytest.fixture
def stock(organization: Organization, custodian: User) -> Stock:
    registrant = factories.make_registrant(organization, by=custodian)
    safe = factories.make_safe(registrant, by=custodian)
    product = factories.make_product(organization, by=custodian)
    supplier = factories.make_supplier(organization, by=custodian)
    vials = factories.receive(
        registrant, by=custodian, product=product, supplier=supplier, safe=safe
    )
    return Stock(registrant, safe, product, supplier, vials)


@pytest.fixture
def history(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> list[LedgerEntry]:
    """Seven entries: two receipts, then a session (draw, administer, waste), twice over."""
    for volume in ("0.80", "0.60"):
        ref = uuid.uuid4()
        draw_for_session(
            stock.vials[0],
            session_ref=ref,
            patient=patient,
            volume_ml=Decimal(volume),
            by=nurse,
        )
        record_administration(
            ref, volume_ml=Decimal(volume) - Decimal("0.10"), by=nurse
        )
        waste_remainder(
            ref,
            volume_ml=Decimal("0.10"),
            by=nurse,
            witness=factories.confirmed(custodian),
        )
    entries = list(LedgerEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, 9))
    return entries


@pytest.fixture(autouse=True)
def _any_session_is_clinical(request: pytest.FixtureRequest) -> Iterator[None]:
    """The ledger's own tests have no infusions: a permissive session authority stands
    in for the infusion app's, except in tests marked `clinical_sessions`, which use the
    real one (test_clinical_sessions.py)."""
    if request.node.get_closest_marker("clinical_sessions"):
        yield
        return
    with authority.replaced(lambda claim: None):
        yield
