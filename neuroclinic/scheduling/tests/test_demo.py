"""The demo calendar loads through the actions and keeps the rules."""

import random

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.demo import DemoContext
from neuroclinic.clinics.models import Location, Organization, Room
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling import demo
from neuroclinic.scheduling.models import Appointment, StaffShift
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db


def test_demo_books_the_remaining_series_and_a_cancellation(
    organization: Organization,
    location: Location,
    rooms: list[Room],
    plan: TreatmentPlan,
    admin: User,
    front_desk: User,
    nurse: User,
    prescriber: User,
    tms: User,
    director: User,
) -> None:
    staff = {
        "admin": admin,
        "frontdesk": front_desk,
        "nurse": nurse,
        "prescriber": prescriber,
        "tms": tms,
        "director": director,
    }
    context = DemoContext(
        organization=organization,
        staff=staff,
        patients=list(Patient.objects.all()),
        rng=random.Random(1),
    )
    demo.load(context)
    assert StaffShift.objects.exists()
    infusions = Appointment.objects.filter(
        patient=plan.patient, appointment_type__code="infusion"
    )
    assert infusions.count() == 6
    assert Appointment.objects.filter(status="cancelled").count() == 1


def test_the_demo_books_an_ordered_booster_inside_the_protocol_s_interval(
    organization: Organization,
    location: Location,
    rooms: list[Room],
    patient: Patient,
    admin: User,
    front_desk: User,
    nurse: User,
    prescriber: User,
    tms: User,
    director: User,
) -> None:
    # The series ended 20 days ago: the booster interval (28 to 42 days) opens in 8 days,
    # after this week's demo days, so "Thursday this week" would be refused.
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from neuroclinic.outcomes.tests import factories as course_factories
    from neuroclinic.treatment.defaults import ProtocolKind
    from neuroclinic.treatment.tests import factories as treatment_factories

    today = timezone.now().astimezone(ZoneInfo(location.time_zone)).date()
    plan = course_factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=today - timedelta(days=30),
    )
    treatment_factories.sign_order(plan, prescriber, kind=ProtocolKind.BOOSTER)
    last = today - timedelta(days=20)
    context = DemoContext(
        organization=organization,
        staff={
            "admin": admin,
            "frontdesk": front_desk,
            "nurse": nurse,
            "prescriber": prescriber,
            "tms": tms,
            "director": director,
        },
        patients=list(Patient.objects.all()),
        rng=random.Random(1),
    )
    demo.load(context)
    booster = Appointment.objects.get(patient=patient, appointment_type__code="booster")
    on = booster.starts_at.astimezone(ZoneInfo(location.time_zone)).date()
    assert last + timedelta(days=28) <= on <= last + timedelta(days=42)
