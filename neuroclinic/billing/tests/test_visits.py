"""Invoices for TMS sessions and office visits, from what was charted; visits that did
not happen are refused and nothing is written."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
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
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients import actions as patient_actions
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
    second = _session(tms_course, tms, prescriber, now + timedelta(days=1, hours=1))
    tms_factories.threshold(
        tms_course.patient,
        tms,
        prescriber,
        value=58,
        now=now + timedelta(days=1, hours=2),
    )
    third = _session(tms_course, tms, prescriber, now + timedelta(days=2, hours=1))
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
    *,
    starts: datetime | None = None,
) -> Appointment:
    location = tms_factories.make_location(patient.organization_id)
    starts = starts or timezone.now() - timedelta(hours=3)
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
        ("follow_up", "prescriber", 35, "99203", "290.00"),  # first visit: new patient
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


# ---------------------------------------------------------------- new or established (B4b)

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("earlier_kind", "earlier_status", "days_before", "code", "amount"),
    [
        (None, None, None, "99203", "290.00"),  # never seen: new patient
        ("consult", "checked_in", 365, "99214", "250.00"),  # seen a year ago
        ("follow_up", "checked_in", 2 * 365, "99214", "250.00"),
        ("consult", "checked_in", 4 * 365, "99203", "290.00"),  # over three years
        ("consult", "no_show", 30, "99203", "290.00"),  # a no-show is no service
        ("consult", "cancelled", 30, "99203", "290.00"),
        ("phone_check_in", "checked_in", 30, "99203", "290.00"),  # not face to face
    ],
)
def test_a_follow_up_is_coded_for_a_new_or_an_established_patient(
    patient: Patient,
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    prescriber: User,
    billing: User,
    front_desk: User,
    earlier_kind: str | None,
    earlier_status: str | None,
    days_before: int | None,
    code: str,
    amount: str,
) -> None:
    now = timezone.now()
    if earlier_kind and earlier_status and days_before:
        _visit(
            patient,
            appointment_types[earlier_kind],
            prescriber,
            earlier_status,
            front_desk,
            starts=now - timedelta(days=days_before),
        )
    follow_up = _visit(
        patient, appointment_types["follow_up"], prescriber, "checked_in", front_desk
    )
    invoice = visits.invoice_visit(follow_up, minutes=35, by=billing)
    [line] = invoice.lines.all()
    assert (line.code, str(line.amount)) == (code, amount)
    assert "35 min documented" in line.description
    assert ("new patient" in line.description) is code.startswith("9920")


def test_the_look_back_boundary_on_real_dates(
    patient: Patient,
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    prescriber: User,
    billing: User,
    front_desk: User,
) -> None:
    # A visit on the same calendar day three years before is within the look-back.
    visit_at = timezone.now() - timedelta(hours=3)
    follow_up = _visit(
        patient,
        appointment_types["follow_up"],
        prescriber,
        "checked_in",
        front_desk,
        starts=visit_at,
    )
    day = visits.visit_date(follow_up)
    assert visits.new_patient_on(patient, day) is True
    _visit(
        patient,
        appointment_types["consult"],
        prescriber,
        "checked_in",
        front_desk,
        starts=visit_at.replace(year=visit_at.year - 3, day=min(visit_at.day, 28))
        if (visit_at.month, visit_at.day) == (2, 29)
        else visit_at.replace(year=visit_at.year - 3),
    )
    assert visits.new_patient_on(patient, day) is False
    invoice = visits.invoice_visit(follow_up, minutes=15, by=billing)
    assert invoice.lines.get().code == "99212"


def test_an_infusion_or_a_tms_session_makes_the_patient_established(
    tms_course: TmsCourse,  # noqa: F811
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    tms: User,
    prescriber: User,
    billing: User,
    front_desk: User,
) -> None:
    patient = tms_course.patient
    follow_up = _visit(
        patient, appointment_types["follow_up"], prescriber, "checked_in", front_desk
    )
    day = visits.visit_date(follow_up)
    assert visits.new_patient_on(patient, day) is True
    _session(tms_course, tms, prescriber, timezone.now() - 2 * DAY)
    assert visits.professional_service_dates(patient, before=day) != []
    assert visits.new_patient_on(patient, day) is False
    assert visits.invoice_visit(follow_up, minutes=45, by=billing).lines.get().code == (
        "99215"
    )


def test_a_given_infusion_counts_as_an_earlier_service(
    infused: InfusionSession,
    priced: None,
) -> None:
    day = infused.service_date
    assert visits.professional_service_dates(infused.patient) == [day]
    assert visits.new_patient_on(infused.patient, day + DAY) is False
    assert visits.new_patient_on(infused.patient, day) is True  # same day: not earlier


def test_a_new_patients_follow_up_too_short_for_99202_is_refused(
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
        visits.invoice_visit(follow_up, minutes=12, by=billing)  # 99212 if established
    assert (error.value.field, error.value.code) == ("minutes", "visit_too_short")
    assert "new patient" in error.value.message
    assert not Invoice.objects.exists()


def test_the_account_page_says_which_bands_a_follow_up_uses(
    as_persona: Callable[[str], Client],
    patient: Patient,
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    prescriber: User,
    front_desk: User,
) -> None:
    client = as_persona("billing")
    follow_up = _visit(
        patient, appointment_types["follow_up"], prescriber, "checked_in", front_desk
    )
    url = reverse("billing:account", args=[patient.uuid])
    assert "new patient, 99202-99205 by time" in client.get(url).content.decode()
    response = client.post(
        reverse("billing:invoice_visit", args=[patient.uuid, follow_up.uuid]),
        {"minutes": "62"},
    )
    assert response.status_code == 302
    assert Invoice.objects.get().lines.get().code == "99205"
    later = _visit(
        patient,
        appointment_types["follow_up"],
        prescriber,
        "checked_in",
        front_desk,
        starts=timezone.now() + DAY,  # checked in, the day after the first
    )
    page = client.get(url).content.decode()
    assert "established patient, 99212-99215 by time" in page
    response = client.post(
        reverse("billing:invoice_visit", args=[patient.uuid, later.uuid]),
        {"minutes": "62"},
    )
    assert Invoice.objects.get(session_ref=later.uuid).lines.get().code == "99215"


def test_the_page_answers_404_for_another_patients_visit(
    as_persona: Callable[[str], Client],
    patient: Patient,
    appointment_types: dict[str, AppointmentType],
    tms_priced: None,
    prescriber: User,
    front_desk: User,
    organization: Organization,
) -> None:
    other = patient_actions.register_patient(
        organization,
        by=front_desk,
        family_name="Otherova",
        given_name="Robin",
        birth_date=date(1990, 1, 2),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
        phone="555-0143",
        email="robin.otherova@example.com",
    )
    visit = _visit(
        other, appointment_types["consult"], prescriber, "checked_in", front_desk
    )
    response = as_persona("billing").post(
        reverse("billing:invoice_visit", args=[patient.uuid, visit.uuid])
    )
    assert response.status_code == 404
    assert not Invoice.objects.exists()
