"""Issue 14, item 11: drawn ketamine cannot go back into stock (waste it, witnessed)."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.ledger.actions.sessions import return_to_stock
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Container, LedgerEntry
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.patients.models import Patient


def _state(vial: Container) -> tuple[int, int, object]:
    vial.refresh_from_db()
    return LedgerEntry.objects.count(), AuditEvent.objects.count(), vial.balance_ml


def test_item11_drawn_ketamine_is_not_returned_by_the_action_api_or_page(
    stock: Stock,
    nurse: User,
    custodian: User,
    patient: Patient,
    as_persona: Callable[[str], Client],
) -> None:
    vial = stock.vials[0]
    ref = factories.draw(vial, patient=patient, by=nurse, volume_ml="0.80")
    before = _state(vial)

    with pytest.raises(LedgerError) as refused:
        return_to_stock(
            ref,
            volume_ml=Decimal("0.80"),
            witness=factories.confirmed(custodian),
            reason="Cancelled, syringe sealed",
            by=nurse,
        )
    client = as_persona("nurse")
    api = client.post(
        "/api/ledger/returns",
        {
            "session_ref": ref,
            "volume_ml": "0.80",
            "reason": "Cancelled",
            "witness": {
                "username": custodian.username,
                "password": "correct-horse-battery-staple",
                "otp_code": factories.current_code(custodian),
            },
        },
        content_type="application/json",
    )
    page = client.get(f"/ledger/sessions/{ref}/")

    assert refused.value.code == "drawn_not_returnable"
    assert api.status_code == 422, api.content
    assert "cannot go back into stock" in api.json()["errors"][0]["message"]
    assert b"Return with witness" not in page.content
    assert _state(vial) == before
