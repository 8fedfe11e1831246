"""Invoices for TMS sessions and office visits, from what was charted; visits that did
not happen are refused and nothing is written."""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.accounting import invoice_balance
from neuroclinic.billing.actions import estimates, setup, visits
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import Invoice, Package, Service
from neuroclinic.billing.tests import factories
from neuroclinic.billing.verify import verify_totals
from neuroclinic.clinics.models import Organization
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import setup as scheduling_setup
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.tms.actions import sessions as tms_sessions
from neuroclinic.tms.models import TmsCourse, TmsSession
from neuroclinic.tms.tests import factories as tms_factories
from neuroclinic.tms.tests.conftest import tms_course  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tms_priced(organization: Organization, billing: User, prescriber: User) -> None:
    factories.price_list(organization, billing)
    factories.npi_for(prescriber, billing)


def _session(
    course: TmsCourse, tms: User, prescriber: User, at: datetime, *, pulses: int = 3000
) -> TmsSession:
    session = tms_factories.start(course, tms, prescriber, now=at)
    return tms_sessions.end_session(
        session,
        pulses_delivered=min(pulses, session.pulses_planned),
        interruption_reason=""
        if pulses >= session.pulses_planned
        else "patient_request",
        now=at + timedelta(minutes=20),
        by=tms,
    )


def test_tms_sessions_carry_90867_90868_and_90869(
    tms_course: TmsCourse,  # noqa: F811
    tms_priced: None,
    tms: User,
    prescriber: User,
    billing: User,
) -> None:
    # The course's first threshold was recorded just now: sessions follow it.
    now = timezone.now()
    first = _session(tms_course, tms, prescriber, now + timedelta(hours=1))
    second = _session(tms_course, tms, prescriber, now + timedelta(days=1))
    tms_factories.threshold(
        tms_course.patient,
        tms,
        prescriber,
        value=58,
        now=now + timedelta(days=1, hours=2),
    )
    third = _session(tms_course, tms, prescriber, now + timedelta(days=2))
    lines = []
    for session in (first, second, third):
        invoice = visits.invoice_tms_session(session, by=billing)
        [line] = invoice.lines.all()
        lines.append((line.code, line.units, line.amount))
        assert invoice.rendering_provider == prescriber
    assert lines == [
        ("90867", 1, Decimal("600.00")),
        ("90868", 1, Decimal("300.00")),
        ("90869", 1, Decimal("350.00")),
    ]
    assert verify_totals(tms_course.organization_id) == []


def test_a_tms_course_package_prices_each_session_at_its_share(
    tms_course: TmsCourse,  # noqa: F811
    tms_priced: None,
    tms: User,
    prescriber: User,
    billing: User,
    organization: Organization,
) -> None:
    package = setup.set_package_terms(
        organization,
        name="TMS course",
        service_key=Service.Key.TMS_SESSION,
        sessions=36,
        price=Decimal("9900.00"),
        deposit=Decimal("1000.00"),
        unused_sessions=Package.UnusedSessions.CREDIT,
        by=billing,
    ).package
    estimates.sell_package(
        tms_course.patient, package=package, method="cash", by=billing
    )
    session = _session(tms_course, tms, prescriber, timezone.now() - timedelta(days=1))
    invoice = visits.invoice_tms_session(session, by=billing)
    assert invoice.total == Decimal("275.00")  # 9900.00 / 36
    assert invoice.package_sale is not None
    assert invoice_balance(invoice).due == Decimal("0.00")  # the deposit applied


def test_an_open_or_empty_tms_session_and_a_second_invoice_are_refused(
    tms_course: TmsCourse,  # noqa: F811
    tms_priced: None,
    tms: User,
    prescriber: User,
    billing: User,
) -> None:
    now = timezone.now()
    open_session = tms_factories.start(tms_course, tms, prescriber, now=now)
    with pytest.raises(BillingError) as error:
        visits.invoice_tms_session(open_session, by=billing)
    assert error.value.code == "visit_not_held"
    empty = tms_sessions.end_session(
        open_session,
        pulses_delivered=0,
        interruption_reason="patient_request",
        now=now + timedelta(minutes=2),
        by=tms,
    )
    with pytest.raises(BillingError) as error:
        visits.invoice_tms_session(empty, by=billing)
    assert error.value.code == "visit_not_held"
    assert not Invoice.objects.exists()


def test_a_tms_session_is_invoiced_once(
    tms_course: TmsCourse,  # noqa: F811
    tms_priced: None,
    tms: User,
    prescriber: User,
    billing: User,
) -> None:
    session = _session(tms_course, tms, prescriber, timezone.now() - timedelta(days=1))
    visits.invoice_tms_session(session, by=billing)
    with pytest.raises(BillingError) as error:
        visits.invoice_tms_session(session, by=billing)
    assert error.value.code == "invoiced"
    assert Invoice.objects.count() == 1


@pytest.fixture
def appointment_types(
    organization: Organization, admin: User
) -> dict[str, AppointmentType]:
    scheduling_setup.install_default_types(organization, by=admin)
    return {
        t.code: t for t in AppointmentType.objects.filter(organization=organization)
    }


def _visit(
    patient: Patient,
    kind: AppointmentType,
    staff: User,
    status: str,
    booked_by: User,
) -> Appointment:
    location = tms_factories.make_location(patient.organization_id)
    starts = timezone.now() - timedelta(hours=3)
    return Appointment.objects.create(
        organization_id=patient.organization_id,
        location=location,
        patient=patient,
        appointment_type=kind,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=60),
        held_until=starts + timedelta(minutes=60),
        staff=staff,
        status=status,
        booked_by=booked_by,
    )


@pytest.mark.parametrize(
    ("kind", "clinician", "minutes", "code", "amount"),
    [
        ("consult", "prescriber", None, "90792", "450.00"),
        ("intake_visit", "prescriber", None, "90792", "450.00"),
        ("consult", "nurse", None, "90791", "400.00"),
        ("follow_up", "prescriber", 35, "99214", "250.00"),
    ],
)
def test_visits_that_happened_are_invoiced_by_their_code(
    request: pytest.FixtureRequest,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    billing: User,
    front_desk: User,
    kind: str,
    clinician: str,
    minutes: int | None,
    code: str,
    amount: str,
) -> None:
    staff = request.getfixturevalue(clinician)
    visit = _visit(patient, appointment_types[kind], staff, "checked_in", front_desk)
    invoice = visits.invoice_visit(visit, minutes=minutes, by=billing)
    [line] = invoice.lines.all()
    assert (line.code, line.units, str(line.amount)) == (code, 1, amount)
    assert invoice.session_ref == visit.uuid
    assert invoice.rendering_provider == staff
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_INVOICED, patient=patient
    ).exists()


@pytest.mark.parametrize("status", ["cancelled", "late_cancel", "no_show", "booked"])
def test_an_invoice_for_a_visit_that_did_not_happen_is_refused(
    patient: Patient,
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    prescriber: User,
    billing: User,
    front_desk: User,
    status: str,
) -> None:
    visit = _visit(
        patient, appointment_types["consult"], prescriber, status, front_desk
    )
    with pytest.raises(BillingError) as error:
        visits.invoice_visit(visit, by=billing)
    assert error.value.code == "visit_not_held"
    assert error.value.field == "appointment"
    assert not Invoice.objects.exists()


def test_a_visit_is_invoiced_once_and_a_follow_up_needs_its_minutes(
    patient: Patient,
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    prescriber: User,
    billing: User,
    front_desk: User,
) -> None:
    follow_up = _visit(
        patient, appointment_types["follow_up"], prescriber, "checked_in", front_desk
    )
    with pytest.raises(BillingError) as error:
        visits.invoice_visit(follow_up, by=billing)
    assert error.value.field == "minutes"
    visits.invoice_visit(follow_up, minutes=20, by=billing)
    with pytest.raises(BillingError) as error:
        visits.invoice_visit(follow_up, minutes=20, by=billing)
    assert error.value.code == "invoiced"
    assert Invoice.objects.count() == 1


def test_the_account_page_invoices_a_visit_and_refuses_a_no_show(
    as_persona: Callable[[str], Client],
    patient: Patient,
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    prescriber: User,
    front_desk: User,
) -> None:
    client = as_persona("billing")
    held = _visit(
        patient, appointment_types["consult"], prescriber, "checked_in", front_desk
    )
    missed = _visit(
        patient, appointment_types["consult"], prescriber, "no_show", front_desk
    )
    page = client.get(reverse("billing:account", args=[patient.uuid])).content.decode()
    assert str(held.uuid) in page  # listed under "Visits not yet invoiced"
    assert str(missed.uuid) not in page
    response = client.post(
        reverse("billing:invoice_visit", args=[patient.uuid, missed.uuid])
    )
    assert response.status_code == 422
    assert "did not come" in response.content.decode()
    assert not Invoice.objects.exists()
    response = client.post(
        reverse("billing:invoice_visit", args=[patient.uuid, held.uuid])
    )
    assert response.status_code == 302
    assert Invoice.objects.get().lines.get().code == "90792"
