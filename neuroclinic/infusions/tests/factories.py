"""Factories for infusion tests: a room with a monitor, stock at its location, a session
at each step of the day. Everything goes through the real actions."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Device, Location, Room
from neuroclinic.infusions.actions import monitoring, session_flow
from neuroclinic.infusions.models import InfusionSession, SessionEvent
from neuroclinic.ledger.models import Container
from neuroclinic.ledger.tests import factories as ledger_factories
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.tests.factories import phq9

NORMAL = {
    "systolic_mmhg": 128,
    "diastolic_mmhg": 82,
    "heart_rate_bpm": 74,
    "spo2_percent": 98,
    "respiratory_rate_per_min": 14,
}


def make_room(location: Location, name: str = "Infusion 1") -> Room:
    return Room.objects.create(location=location, name=name, kind=Room.Kind.INFUSION)


def make_monitor(
    location: Location, room: Room | None, serial: str = "MON-1"
) -> Device:
    return Device.objects.create(
        location=location,
        room=room,
        kind=Device.Kind.MONITOR,
        name=f"Monitor {serial}",
        serial_number=serial,
    )


def stock_at(location: Location, custodian: User, *, vials: int = 2) -> list[Container]:
    organization = location.organization
    registrant = ledger_factories.make_registrant(
        organization, by=custodian, location=location
    )
    safe = ledger_factories.make_safe(registrant, by=custodian)
    product = ledger_factories.make_product(organization, by=custodian)
    supplier = ledger_factories.make_supplier(organization, by=custodian)
    return ledger_factories.receive(
        registrant,
        by=custodian,
        product=product,
        supplier=supplier,
        safe=safe,
        count=vials,
    )


def phq9_today(
    session: InfusionSession, nurse: User, *, item9: int = 0
) -> QuestionnaireResponse:
    return record_response(
        session.patient,
        instrument_code="phq9",
        answers=phq9(12, item9=item9),
        source=QuestionnaireResponse.Source.STAFF,
        by=nurse,
    ).response


def fill_checklist(
    session: InfusionSession, nurse: User, *, weight: str = "80", phq9: bool = True
) -> InfusionSession:
    now = timezone.now()
    session_flow.save_checklist(
        session,
        by=nurse,
        weight=weight,
        weight_unit="kg",
        height_cm=Decimal(170),
        last_solids_at=now - timedelta(hours=8),
        last_clear_liquids_at=now - timedelta(hours=3),
        escort_name="Sam Testova",
        escort_phone="555-0143",
        escort_confirmed=True,
        pregnancy_status=InfusionSession.PregnancyStatus.REPORTED_NOT_PREGNANT,
    )
    if phq9:
        phq9_today(session, nurse)
    monitoring.record_typed_vitals(session, NORMAL, by=nurse)
    session.refresh_from_db()
    return session


def reading(at: datetime, device: Device, **values: int) -> dict[str, object]:
    return {"taken_at": at.isoformat(), "device": str(device.uuid), **NORMAL, **values}


def ran_for(session: InfusionSession, minutes: int) -> InfusionSession:
    """Move a running infusion's check-in, start and timeline back, as if the pump had
    run this long (a test cannot wait 40 minutes, and the ledger refuses future times)."""
    shift = timedelta(minutes=minutes)
    session.refresh_from_db()
    # The timeline is append-only (a trigger refuses UPDATE) and sealed: the test-only
    # unguarded_update lifts the trigger for this statement and reseals the rows.
    unguarded_update(
        InfusionSession.objects.filter(pk=session.pk),
        checked_in_at=session.checked_in_at - shift - timedelta(minutes=10),
        started_at=session.started_at - shift if session.started_at else None,
    )
    for event in SessionEvent.objects.filter(session=session):
        unguarded_update(
            SessionEvent.objects.filter(pk=event.pk),
            occurred_at=event.occurred_at - shift,
        )
    session.refresh_from_db()
    return session
