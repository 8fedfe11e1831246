"""Which vial to draw from (issue 18 item 5): a suggestion that can work, or none.

Pure: it reads the vials it is given and decides nothing the ledger would
refuse. The nurse still chooses; the ledger still checks balance and expiry.

The order offered: vials that hold the whole volume still needed first; among
them opened vials before sealed ones (use up what is open, USP <797> beyond-use
dating runs from opening), then the oldest expiry (first-expiring, first-out),
then the vial label. Expired and empty vials are not offered (the ledger refuses
a draw from an expired lot). When no single vial holds enough but several do
together, the suggestion is to draw the first opened vial's whole balance and
then the rest from the next; when the stock cannot cover it, nothing is
suggested and the note says how much is missing.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from neuroclinic.ledger.models import Container

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class VialPlan:
    vials: list[Container]  # the offer, best first
    suggested: Container | None
    suggested_ml: Decimal | None  # what to draw from the suggested vial now
    note: str


def _label(vial: Container) -> str:
    state = "opened" if vial.status == Container.Status.OPEN else "sealed"
    return (
        f"vial {vial.vial_identifier} ({state}, {vial.balance_ml} mL left, "
        f"expires {vial.lot.expiry_date:%Y-%m-%d})"
    )


def plan_draw(
    vials: Iterable[Container], *, needed_ml: Decimal, today: date
) -> VialPlan:
    usable = [
        v
        for v in vials
        if v.is_in_stock and v.balance_ml > ZERO and v.lot.expiry_date >= today
    ]
    usable.sort(
        key=lambda v: (
            v.balance_ml < needed_ml,
            v.status != Container.Status.OPEN,
            v.lot.expiry_date,
            v.vial_identifier,
        )
    )
    if needed_ml <= ZERO:
        return VialPlan(usable, None, None, "The calculated volume has been drawn.")
    if not usable:
        return VialPlan(usable, None, None, "No vial in stock can be drawn from.")
    first = usable[0]
    if first.balance_ml >= needed_ml:
        return VialPlan(
            usable, first, needed_ml, f"Suggested: {_label(first)}, which holds enough."
        )
    total = sum((v.balance_ml for v in usable), ZERO)
    if total < needed_ml:
        return VialPlan(
            usable,
            None,
            None,
            f"The vials in stock hold {total} mL of the {needed_ml} mL still needed: "
            "receive or move more stock before drawing.",
        )
    # No single vial holds enough: empty the first (opened, oldest) one, then the next.
    return VialPlan(
        usable,
        first,
        first.balance_ml,
        f"No single vial holds {needed_ml} mL: draw {first.balance_ml} mL from "
        f"{_label(first)}, then the remaining "
        f"{needed_ml - first.balance_ml} mL from the next vial.",
    )
