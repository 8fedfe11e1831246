"""A registered clinic with a safe, a ketamine product, a supplier and two vials."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.ledger import authority
from neuroclinic.ledger.models import (
    Container,
    Product,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.tests import factories


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
