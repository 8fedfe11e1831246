"""Which vial the draw offers first (issue 18 item 5): never a default that cannot work."""

from datetime import date
from decimal import Decimal

import pytest

from neuroclinic.infusions.vials import plan_draw
from neuroclinic.ledger.models import Container, Lot

TODAY = date(2026, 12, 6)
OPEN, SEALED, EMPTY = (
    Container.Status.OPEN,
    Container.Status.SEALED,
    Container.Status.EMPTY,
)


def vial(name: str, status: str, balance: str, expires: date) -> Container:
    return Container(
        vial_identifier=name,
        status=status,
        balance_ml=Decimal(balance),
        lot=Lot(lot_number=f"LOT-{name}", expiry_date=expires),
    )


JAN, MAR, JUN = date(2027, 1, 31), date(2027, 3, 31), date(2027, 6, 30)
EXPIRED = date(2026, 12, 5)

CASES = [
    # (vials, needed mL, offered order, suggested, suggested mL, words in the note)
    pytest.param(
        [vial("S1", SEALED, "10.00", JAN), vial("O1", OPEN, "6.00", MAR)],
        "1.60",
        ["O1", "S1"],
        "O1",
        "1.60",
        "holds enough",
        id="an opened vial with enough goes before a sealed one",
    ),
    pytest.param(
        [vial("O2", OPEN, "6.00", MAR), vial("O1", OPEN, "3.00", JAN)],
        "1.60",
        ["O1", "O2"],
        "O1",
        "1.60",
        "holds enough",
        id="among opened vials the oldest expiry first",
    ),
    pytest.param(
        [vial("O1", OPEN, "0.40", JAN), vial("S1", SEALED, "10.00", MAR)],
        "1.60",
        ["S1", "O1"],
        "S1",
        "1.60",
        "holds enough",
        id="an opened vial without enough is not suggested while another has enough",
    ),
    pytest.param(
        [vial("O1", OPEN, "0.40", JAN), vial("O2", OPEN, "1.50", MAR)],
        "1.60",
        ["O1", "O2"],
        "O1",
        "0.40",
        "draw 0.40 mL from vial O1 (opened, 0.40 mL left, expires 2027-01-31), "
        "then the remaining 1.20 mL",
        id="no single vial holds enough: split, emptying the oldest opened one first",
    ),
    pytest.param(
        [vial("O1", OPEN, "0.40", JAN), vial("O2", OPEN, "0.50", MAR)],
        "1.60",
        ["O1", "O2"],
        None,
        None,
        "hold 0.90 mL of the 1.60 mL",
        id="stock that cannot cover the dose suggests nothing",
    ),
    pytest.param(
        [
            vial("X1", OPEN, "9.00", EXPIRED),
            vial("E1", EMPTY, "0.00", JUN),
            vial("S1", SEALED, "10.00", JUN),
        ],
        "1.60",
        ["S1"],
        "S1",
        "1.60",
        "holds enough",
        id="expired and empty vials are not offered",
    ),
    pytest.param(
        [vial("X1", OPEN, "9.00", EXPIRED)],
        "1.60",
        [],
        None,
        None,
        "No vial in stock",
        id="nothing usable",
    ),
    pytest.param(
        [vial("S1", SEALED, "10.00", JUN)],
        "0.00",
        ["S1"],
        None,
        None,
        "has been drawn",
        id="nothing more needed suggests nothing",
    ),
    pytest.param(
        [vial("O1", OPEN, "1.60", TODAY)],
        "1.60",
        ["O1"],
        "O1",
        "1.60",
        "holds enough",
        id="a vial expiring today with exactly enough works",
    ),
]


@pytest.mark.parametrize(
    ("vials", "needed", "order", "suggested", "suggested_ml", "note"), CASES
)
def test_the_offer_and_the_suggestion(
    vials: list[Container],
    needed: str,
    order: list[str],
    suggested: str | None,
    suggested_ml: str | None,
    note: str,
) -> None:
    plan = plan_draw(vials, needed_ml=Decimal(needed), today=TODAY)

    assert [v.vial_identifier for v in plan.vials] == order
    assert (plan.suggested.vial_identifier if plan.suggested else None) == suggested
    assert plan.suggested_ml == (Decimal(suggested_ml) if suggested_ml else None)
    assert note in plan.note
