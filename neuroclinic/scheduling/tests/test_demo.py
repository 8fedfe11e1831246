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
