"""The tablet screen, the board and the reports over HTTP, as the nurse's browser uses them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import TEST_PASSWORD, login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Device, Room
from neuroclinic.infusions.actions import dose_draw, monitoring
from neuroclinic.infusions.models import InfusionSession, PrnGiven, VitalReading
from neuroclinic.infusions.tests import factories
from neuroclinic.ledger.models import Container
from neuroclinic.ledger.tests.factories import current_code
from neuroclinic.treatment.models import TreatmentPlan


def url(session: InfusionSession, step: str = "") -> str:
    if not step:
        return reverse("infusions:session", kwargs={"session_uuid": session.uuid})
    return reverse(
        "infusions:step", kwargs={"session_uuid": session.uuid, "step_name": step}
    )


@pytest.fixture
def tablet(client: Client, nurse: User) -> Client:
    return login(client, nurse)


VITALS = {
    "systolic_mmhg": "126",
    "diastolic_mmhg": "80",
    "heart_rate_bpm": "72",
    "spo2_percent": "98",
    "respiratory_rate_per_min": "14",
    "etco2_mmhg": "",
}


def test_the_tablet_screen_shows_the_checklist_with_its_hard_stops(
    tablet: Client, session: InfusionSession
) -> None:
    response = tablet.get(url(session))
    assert response.status_code == 200
    body = response.content.decode()
    assert "1. Checklist" in body
    assert "Hard stop" in body
    assert "Record pregnancy status" in body
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.INFUSION_VIEWED).count() == 1
    )
    assert 'style="' not in body  # CSP: no inline styles


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("spo2_percent", "130", "SpO2 130 % is outside the plausible range 50-100 %"),
        (
            "systolic_mmhg",
            "400",
            "Systolic BP 400 mmHg is outside the plausible range 50-300 mmHg",
        ),
        (
            "heart_rate_bpm",
            "0",
            "Heart rate 0 beats/min is outside the plausible range 20-250",
        ),
        ("respiratory_rate_per_min", "1x", "must be a whole number"),
    ],
)
def test_impossible_vitals_are_refused_with_a_message_and_nothing_is_stored(
    tablet: Client, session: InfusionSession, field: str, value: str, message: str
) -> None:
    data = VITALS | {field: value}
    if field == "systolic_mmhg":
        data["diastolic_mmhg"] = "20"
    response = tablet.post(url(session, "vitals"), data)
    assert response.status_code == 200  # the form again, with the message
    assert message in response.content.decode()
    assert not VitalReading.objects.exists()


def test_a_7000_kg_weight_is_refused_on_the_form(
    tablet: Client, session: InfusionSession
) -> None:
    response = tablet.post(
        url(session, "checklist"), {"weight": "7000", "weight_unit": "kg"}
    )
    assert response.status_code == 200
    assert "outside the plausible adult range" in response.content.decode()
    session.refresh_from_db()
    assert session.weight_kg is None


def test_a_whole_infusion_through_the_tablet(
    tablet: Client,
    session: InfusionSession,
    nurse: User,
    custodian: User,
    prescriber: User,
    vials: list[Container],
) -> None:
    now = timezone.now()
    zone_now = now.astimezone(
        __import__("zoneinfo").ZoneInfo(session.location.time_zone)
    )
    local = "%Y-%m-%dT%H:%M"
    response = tablet.post(
        url(session, "checklist"),
        {
            "weight": "176",
            "weight_unit": "lb",
            "height_cm": "170",
            "last_solids_at": (zone_now - timedelta(hours=9)).strftime(local),
            "last_clear_liquids_at": (zone_now - timedelta(hours=3)).strftime(local),
            "escort_name": "Sam Testova",
            "escort_phone": "555-0143",
            "escort_confirmed": "on",
            "pregnancy_status": "reported_not_pregnant",
        },
    )
    assert response.status_code == 302
    factories.phq9_today(session, nurse)
    assert tablet.post(url(session, "vitals"), VITALS).status_code == 302
    assert tablet.post(url(session, "confirm-checklist")).status_code == 302
    session.refresh_from_db()
    assert session.checklist_confirmed_at is not None
    assert session.weight_kg == Decimal("79.8")

    assert (
        tablet.post(
            url(session, "dose"),
            {"concentration_mg_per_ml": "50", "diluent_volume_ml": "100"},
        ).status_code
        == 302
    )
    page = tablet.get(url(session)).content.decode()
    assert "39.9 mg" in page
    assert "0.80 mL" in page
    response = tablet.post(
        url(session, "draw"), {"container": vials[0].pk, "volume_ml": "1.00"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (
        tablet.post(
            url(session, "start"), {"client_key": "", "occurred_at": ""}
        ).status_code
        == 302
    )
    session.refresh_from_db()
    assert session.status == InfusionSession.Status.RUNNING

    response = tablet.post(
        url(session, "event"),
        {
            "event-kind": "nausea",
            "event-severity": "moderate",
            "event-description": "Queasy",
        },
    )
    assert response.status_code == 302
    ondansetron = session.order.prn_medications.get(drug="Ondansetron")
    response = tablet.post(
        url(session, "prn"), {"prn-prn_order": ondansetron.pk, "prn-dose": "4"}
    )
    assert response.status_code == 302
    assert PrnGiven.objects.get().given_by == nurse
    assert (
        tablet.post(url(session, "sedation"), {"sedation-score": "4"}).status_code
        == 302
    )
    cadss = {f"cadss-cadss6-{n}": "1" for n in range(1, 7)}
    assert tablet.post(url(session, "cadss"), cadss).status_code == 302

    factories.ran_for(session, 40)
    response = tablet.post(
        url(session, "stop"),
        {
            "stop-completed": "yes",
            "stop-reason": "",
            "stop-volume_infused_ml": "100.80",
        },
    )
    assert response.status_code == 302
    session.refresh_from_db()
    unguarded_update(
        InfusionSession.objects.filter(pk=session.pk),
        ended_at=timezone.now() - timedelta(minutes=40),
    )
    aldrete = {
        f"recovery-{item}": "2"
        for item in ("activity", "respiration", "circulation", "consciousness", "spo2")
    }
    assert (
        tablet.post(
            url(session, "recovery"), aldrete | {"recovery-moaas_score": "5"}
        ).status_code
        == 302
    )
    response = tablet.post(
        url(session, "discharge"),
        {"escort_name": "Sam Testova", "instructions_channel": "paper"},
    )
    assert response.status_code == 302
    pdf = tablet.get(
        reverse("infusions:instructions_pdf", kwargs={"session_uuid": session.uuid})
    )
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    response = tablet.post(
        url(session, "waste"),
        {
            "waste-volume_ml": "0.20",
            "waste-witness": custodian.username,
            "waste-witness_password": TEST_PASSWORD,
            "waste-witness_code": current_code(custodian),
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert "Drawn = administered + wasted" in tablet.get(url(session)).content.decode()
    response = tablet.post(url(session, "sign"), {"sign-password": TEST_PASSWORD})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == InfusionSession.Status.CLOSED
    page = tablet.get(url(session)).content.decode()
    assert "Locked" in page
    assert "awaiting the prescriber" in page


def test_the_live_panel_and_the_board_show_the_latest_vitals_and_the_alarm(
    client: Client, running: InfusionSession, nurse: User, room: Room, monitor: Device
) -> None:
    login(client, nurse)
    now = timezone.now()
    unguarded_update(running.vitals, taken_at=now - timedelta(minutes=20))
    monitoring.ingest_readings(
        running,
        [factories.reading(now - timedelta(seconds=30), monitor, spo2_percent=87)],
        source=VitalReading.Source.MONITOR,
        by=nurse,
    )
    live = client.get(
        reverse("infusions:live", kwargs={"session_uuid": running.uuid})
    ).content.decode()
    assert "CRITICAL" in live
    assert "SpO2 87% is below 90%" in live
    assert "Stop the infusion" in live
    board = client.get(reverse("infusions:board") + f"?location={room.location.uuid}")
    assert board.status_code == 200
    rooms = client.get(
        reverse("infusions:board_rooms", kwargs={"location_uuid": room.location.uuid})
    ).content.decode()
    assert "CRITICAL ALARM" in rooms
    assert "<polyline" in rooms
    assert "87" in rooms
    assert 'style="' not in rooms


def test_the_day_and_the_patient_log(
    client: Client, running: InfusionSession, nurse: User
) -> None:
    login(client, nurse)
    day = client.get(reverse("infusions:day") + f"?location={running.location.uuid}")
    assert day.status_code == 200
    assert running.patient.display_name in day.content.decode()
    log = client.get(
        reverse("infusions:patient_log", kwargs={"patient_uuid": running.patient.uuid})
    )
    assert log.status_code == 200
    assert "1 of 6" in log.content.decode()


def test_the_chart_shows_the_plan_and_checks_the_patient_in(
    client: Client, plan: object, nurse: User, room: Room
) -> None:
    assert isinstance(plan, TreatmentPlan)
    login(client, nurse)
    chart = client.get(
        reverse("patients:chart", kwargs={"patient_uuid": plan.patient.uuid})
    )
    body = chart.content.decode()
    assert "Ketamine treatment" in body
    assert "0 of 6" in body
    assert "Check in" in body
    response = client.post(
        reverse("infusions:check_in", kwargs={"patient_uuid": plan.patient.uuid}),
        {"room": room.pk},
    )
    session = InfusionSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(session)


def test_the_draw_preselects_a_vial_that_holds_the_dose_and_its_volume(
    tablet: Client, ready: InfusionSession, nurse: User, vials: list[Container]
) -> None:
    dose_draw.calculate_dose(ready, by=nurse, concentration_mg_per_ml=Decimal(50))

    form = tablet.get(url(ready)).context["forms"]["draw"]

    assert form.initial["container"] == vials[0].pk
    assert form.initial["volume_ml"] == Decimal("0.80")
    assert f"vial {vials[0].vial_identifier} (sealed" in form_page(tablet, ready)


def test_with_too_little_stock_no_vial_is_preselected_and_the_shortfall_is_named(
    tablet: Client, ready: InfusionSession, nurse: User, vials: list[Container]
) -> None:
    dose_draw.calculate_dose(ready, by=nurse, concentration_mg_per_ml=Decimal(50))
    for vial in vials:
        unguarded_update(
            Container.objects.filter(pk=vial.pk), balance_ml=Decimal("0.30")
        )

    response = tablet.get(url(ready))

    form = response.context["forms"]["draw"]
    assert "container" not in form.initial
    assert form.initial["volume_ml"] is None
    assert "hold 0.60 mL of the 0.80 mL still needed" in response.content.decode()
    assert (
        '<option value="" selected>Choose a vial</option>' in response.content.decode()
    )


def form_page(client: Client, session: InfusionSession) -> str:
    return client.get(url(session)).content.decode()
