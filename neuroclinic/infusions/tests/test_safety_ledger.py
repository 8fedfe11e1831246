"""Issue 14, items 1 and 2: the ledger's patient lines belong to a real infusion, and
what the ledger says was given is what the chart says was given."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.actions import dose_draw, session_flow
from neuroclinic.infusions.actions.common import current_dose
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.tests import factories
from neuroclinic.ledger import authority
from neuroclinic.ledger.actions import sessions as ledger
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Container, LedgerEntry
from neuroclinic.patients.models import Patient

JSON = "application/json"


def _counts() -> tuple[int, int]:
    return LedgerEntry.objects.count(), AuditEvent.objects.count()


def _stop_completed(session: InfusionSession, nurse: User) -> InfusionSession:
    factories.ran_for(session, 40)
    return session_flow.stop(
        session,
        by=nurse,
        reason="",
        completed=True,
        volume_infused_ml=Decimal("100.80"),
    )


def test_item1_a_draw_for_another_patients_infusion_is_refused(
    ready: InfusionSession,
    vials: list[Container],
    nurse: User,
    organization: object,
    front_desk: User,
) -> None:
    from neuroclinic.patients.actions import register_patient

    dose_draw.calculate_dose(ready, by=nurse, concentration_mg_per_ml=Decimal(50))
    other = register_patient(
        ready.organization,
        by=front_desk,
        family_name="Otherova",
        given_name="Pat",
        birth_date=ready.patient.birth_date,
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )
    before = _counts()

    with pytest.raises(LedgerError, match="another patient"):
        ledger.draw_for_session(
            vials[0],
            session_ref=ready.uuid,
            patient=other,
            volume_ml=Decimal("0.80"),
            by=nurse,
        )
    assert _counts() == before


def test_item1_no_draw_before_the_checklist_and_dose_even_through_the_api(
    session: InfusionSession,
    vials: list[Container],
    as_persona: Callable[[str], Client],
) -> None:
    before = _counts()

    response = as_persona("nurse").post(
        "/api/ledger/draws",
        {
            "container": str(vials[0].uuid),
            "patient": str(session.patient.uuid),
            "session_ref": str(session.uuid),
            "volume_ml": "0.80",
        },
        content_type=JSON,
    )

    assert response.status_code == 422, response.content
    assert "checklist" in response.json()["errors"][0]["message"]
    assert _counts() == before


def test_item2_a_draw_beyond_the_dose_plus_overfill_is_refused_on_the_chart_and_api(
    ready: InfusionSession,
    vials: list[Container],
    nurse: User,
    as_persona: Callable[[str], Client],
) -> None:
    dose = dose_draw.calculate_dose(
        ready, by=nurse, concentration_mg_per_ml=Decimal(50)
    )
    assert dose.drug_volume_ml == Decimal("0.80")
    before = _counts()

    with pytest.raises(InfusionError, match=r"Draw at most 1\.00 mL"):
        dose_draw.draw(ready, by=nurse, container=vials[0], volume_ml=Decimal("3.00"))
    response = as_persona("nurse").post(
        "/api/ledger/draws",
        {
            "container": str(vials[0].uuid),
            "patient": str(ready.patient.uuid),
            "session_ref": str(ready.uuid),
            "volume_ml": "3.00",
        },
        content_type=JSON,
    )

    assert response.status_code == 422
    assert "Draw at most 1.00 mL" in response.json()["errors"][0]["message"]
    assert _counts() == before


def test_item2_an_extra_administration_through_the_api_is_refused(
    running: InfusionSession, nurse: User, as_persona: Callable[[str], Client]
) -> None:
    _stop_completed(running, nurse)
    before = _counts()

    response = as_persona("nurse").post(
        "/api/ledger/administrations",
        {"session_ref": str(running.uuid), "volume_ml": "0.20"},
        content_type=JSON,
    )

    assert response.status_code == 422, response.content
    assert "already recorded" in response.json()["errors"][0]["message"]
    assert _counts() == before


def test_item2_an_administration_while_the_pump_runs_is_refused(
    running: InfusionSession, nurse: User
) -> None:
    with pytest.raises(LedgerError, match="from the pump stop"):
        ledger.record_administration(running.uuid, volume_ml=Decimal("0.80"), by=nurse)


def test_item2_the_note_waits_until_ledger_and_chart_agree(
    running: InfusionSession, nurse: User
) -> None:
    _stop_completed(running, nurse)
    running.refresh_from_db()
    assert running.mg_given == Decimal("40.00")
    # Stock drawn for the session and booked as given by a path that stood the check aside.
    dose = current_dose(running)
    assert dose is not None
    with authority.replaced(lambda claim: None):
        ledger.record_administration(running.uuid, volume_ml=Decimal("0.20"), by=nurse)

    with pytest.raises(
        InfusionError, match=r"The ledger records 50\.00 mg administered"
    ):
        dose_draw.check_reconciled(running)
