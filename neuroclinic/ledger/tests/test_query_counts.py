"""Every ledger list page and API list runs a fixed number of queries, however much
it lists (Zulip's N+1 warning, Saleor's query-count tests).

The counts are pinned on a ledger with some history; a second test adds more of
everything a list shows (vials, sessions, counts, escalated discrepancies and their
tasks, inventories, checks, another registration) and requires the same counts.
A pinned number that changes is a question for review: an N+1, or a new query
every page now pays.
"""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.ledger.actions.counts import (
    CountInput,
    complete_task,
    escalate_significant_loss,
    record_count,
)
from neuroclinic.ledger.actions.inventory import take_inventory
from neuroclinic.ledger.actions.sessions import record_administration, waste_remainder
from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Discrepancy,
    Inventory,
    LedgerCheck,
    Registrant,
)
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.patients.models import Patient

D = Decimal
IN_STOCK = [Container.Status.SEALED, Container.Status.OPEN]

# (url, queries). {r}: the registrant's UUID; {v}: its first vial's.
PINNED = [
    # pages
    ("/ledger/?registrant={r}", 18),
    ("/ledger/entries/?registrant={r}", 17),
    ("/ledger/inventories/?registrant={r}", 16),
    ("/ledger/reports/?registrant={r}", 19),
    ("/ledger/setup/?registrant={r}", 19),
    ("/ledger/vials/{v}/", 26),
    # API lists
    ("/api/ledger/registrants", 8),
    ("/api/ledger/storage-locations", 8),
    ("/api/ledger/products", 8),
    ("/api/ledger/suppliers", 8),
    ("/api/ledger/containers", 8),
    ("/api/ledger/entries", 9),
    ("/api/ledger/discrepancies", 10),
    ("/api/ledger/inventory-status", 8),
    ("/api/ledger/checks/latest", 9),
    ("/api/ledger/reports/administrations?registrant={r}", 13),
]


def _dea_number(first_digit: int) -> str:
    """A valid DEA number for another registration (check digit computed)."""
    digits = [first_digit, 2, 3, 4, 5, 6]
    check = (sum(digits[0::2]) + 2 * sum(digits[1::2])) % 10
    return "BM" + "".join(map(str, digits)) + str(check)


def more_history(
    stock: Stock, round_: int, *, nurse: User, custodian: User, patient: Patient
) -> None:
    """One more of everything the lists show."""
    organization = Organization.objects.get(pk=stock.registrant.organization_id)
    factories.receive(
        stock.registrant,
        by=custodian,
        product=stock.product,
        supplier=stock.supplier,
        safe=stock.safe,
        invoice_number=f"INV-MORE-{round_}",
    )
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse, volume_ml="0.50")
    record_administration(ref, volume_ml=D("0.40"), by=nurse)
    waste_remainder(
        ref, volume_ml=D("0.10"), witness=factories.confirmed(custodian), by=nurse
    )
    on_hand = Container.objects.filter(storage_location=stock.safe, status__in=IN_STOCK)
    short = D("0.10")
    count = record_count(
        stock.safe,
        lines=[
            CountInput(c, c.balance_ml - (short if i == 0 else 0))
            for i, c in enumerate(on_hand.order_by("id"))
        ],
        witness=factories.confirmed(nurse),
        by=custodian,
    )
    discrepancy = Discrepancy.objects.get(count=count)
    escalate_significant_loss(
        discrepancy, loss_kind="significant_loss", notes="A vial short.", by=custodian
    )
    complete_task(
        ComplianceTask.objects.filter(discrepancy=discrepancy).order_by("id")[0],
        reference="TLR-0001",
        by=custodian,
    )
    take_inventory(
        stock.registrant,
        kind=Inventory.Kind.INITIAL if round_ == 0 else Inventory.Kind.BIENNIAL,
        time_of_day=Inventory.TimeOfDay.OPENING,
        lines=[
            CountInput(c, c.balance_ml)
            for c in Container.objects.filter(
                registrant=stock.registrant, status__in=IN_STOCK
            )
        ],
        by=custodian,
    )
    run_check(stock.registrant, source=LedgerCheck.Source.COMMAND, notify=False)
    other = factories.make_registrant(
        organization,
        by=custodian,
        dea_number=_dea_number(round_ + 1),
        location=factories.make_location(organization, name=f"Annex {round_}"),
    )
    vials = factories.receive(
        other,
        by=custodian,
        product=stock.product,
        supplier=stock.supplier,
        safe=factories.make_safe(other, by=custodian),
        invoice_number=f"INV-ANNEX-{round_}",
    )
    take_inventory(
        other,
        kind=Inventory.Kind.INITIAL,
        time_of_day=Inventory.TimeOfDay.OPENING,
        lines=[CountInput(c, c.balance_ml) for c in vials],
        by=custodian,
    )
    run_check(other, source=LedgerCheck.Source.COMMAND, notify=False)


def _url(template: str, stock: Stock) -> str:
    return template.format(r=stock.registrant.uuid, v=stock.vials[0].uuid)


@pytest.fixture
def history(stock: Stock, nurse: User, custodian: User, patient: Patient) -> Stock:
    more_history(stock, 0, nurse=nurse, custodian=custodian, patient=patient)
    return stock


@pytest.mark.parametrize(("url", "queries"), PINNED, ids=[u for u, _ in PINNED])
def test_a_ledger_list_runs_its_pinned_number_of_queries(
    url: str,
    queries: int,
    history: Stock,
    as_persona: Callable[[str], Client],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    client = as_persona("custodian")

    with django_assert_num_queries(queries):
        response = client.get(_url(url, history))

    assert response.status_code == 200


def test_ledger_lists_run_as_many_queries_with_more_to_list(
    history: Stock,
    as_persona: Callable[[str], Client],
    nurse: User,
    custodian: User,
    patient: Patient,
) -> None:
    client = as_persona("custodian")

    def counts() -> dict[str, int]:
        found = {}
        for url, _ in PINNED:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(_url(url, history)).status_code == 200
            found[url] = len(queries.captured_queries)
        return found

    before = counts()
    for round_ in (1, 2):
        more_history(history, round_, nurse=nurse, custodian=custodian, patient=patient)
    after = counts()

    assert Registrant.objects.count() == 4
    assert after == before
