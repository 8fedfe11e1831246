"""Invoices and their lines are sealed (issue #15 item 1): an edit made in the database
outside the application is named by `verify_seals`."""

from decimal import Decimal

import pytest
from django.db import connection

from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import verify_seals
from neuroclinic.billing.actions import invoices
from neuroclinic.infusions.models import InfusionSession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("priced")]


@pytest.mark.parametrize(
    ("table", "column", "label"),
    [
        ("billing_invoice", "total", "billing.invoice"),
        ("billing_invoiceline", "amount", "billing.invoiceline"),
    ],
)
def test_an_amount_changed_in_the_database_is_caught(
    infused: InfusionSession, billing: User, table: str, column: str, label: str
) -> None:
    invoice = invoices.invoice_session(infused, by=billing)
    # (The fixture fast-forwards the infusion in the database; only billing counts here.)
    assert billing_problems() == []  # the bulk-written lines are sealed too
    row = invoice.pk if table == "billing_invoice" else invoice.lines.first().pk  # type: ignore[union-attr]

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE id = %s",
            [Decimal("1.00"), row],
        )

    assert billing_problems() == [(label, str(row))]


def billing_problems() -> list[tuple[str, str]]:
    return [
        (p.model, p.object_id)
        for p in verify_seals(limit=100)
        if p.model.startswith("billing.")
    ]
