"""Issue 14, item 1: no patient draw or administration without a real infusion behind it.

These tests use the infusion app's real session authority (marked `clinical_sessions`):
a made-up session reference is refused on every path, and nothing is written.
"""

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.ledger import authority
from neuroclinic.ledger.actions.sessions import draw_for_session, record_administration
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import LedgerEntry
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.clinical_sessions


def _counts() -> tuple[int, int]:
    return LedgerEntry.objects.count(), AuditEvent.objects.count()


def test_item1_a_draw_for_a_made_up_session_is_refused_by_the_action(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    before = _counts()

    with pytest.raises(LedgerError) as refused:
        draw_for_session(
            stock.vials[0],
            session_ref=uuid.uuid4(),
            patient=patient,
            volume_ml=Decimal("2.00"),
            by=nurse,
        )

    assert refused.value.code == "session_not_clinical"
    assert "No infusion has this session reference" in refused.value.message
    assert _counts() == before


def test_item1_the_api_refuses_a_draw_and_an_administration_without_an_infusion(
    stock: Stock, as_persona: Callable[[str], Client], patient: Patient
) -> None:
    api = as_persona("nurse")
    ref = str(uuid.uuid4())
    before = _counts()

    drawn = api.post(
        "/api/ledger/draws",
        {
            "container": str(stock.vials[0].uuid),
            "patient": str(patient.uuid),
            "session_ref": ref,
            "volume_ml": "2.00",
        },
        content_type="application/json",
    )
    given = api.post(
        "/api/ledger/administrations",
        {"session_ref": ref, "volume_ml": "2.00"},
        content_type="application/json",
    )

    assert drawn.status_code == 422, drawn.content
    assert drawn.json()["errors"][0]["field"] == "session_ref"
    assert given.status_code == 422
    assert _counts() == before


def test_item1_an_administration_on_a_drawn_but_unclinical_session_is_refused(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    """Even stock drawn some other way cannot be booked as given through the API."""
    with authority.replaced(lambda claim: None):
        ref = factories.draw(
            stock.vials[0], patient=patient, by=nurse, volume_ml="2.00"
        )
    before = _counts()

    with pytest.raises(LedgerError) as refused:
        record_administration(ref, volume_ml=Decimal("2.00"), by=nurse)

    assert refused.value.code == "session_not_clinical"
    assert _counts() == before


def test_item1_the_ledger_page_refuses_a_draw_without_an_infusion(
    stock: Stock, as_persona: Callable[[str], Client], patient: Patient
) -> None:
    page = as_persona("nurse")
    before = _counts()

    response = page.post(
        "/ledger/draw/",
        {
            "container": str(stock.vials[0].uuid),
            "patient_mrn": patient.mrn,
            "volume_ml": "2.00",
        },
    )

    assert response.status_code == 200
    assert b"No infusion has this session reference" in response.content
    assert _counts() == before


def test_item1_with_no_authority_registered_the_ledger_fails_closed(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    with authority.replaced(None), pytest.raises(LedgerError) as refused:
        draw_for_session(
            stock.vials[0],
            session_ref=uuid.uuid4(),
            patient=patient,
            volume_ml=Decimal("1.00"),
            by=nurse,
        )
    assert refused.value.code == "session_not_clinical"
