"""A screened patient with a threshold and a 10 Hz course; an open session."""

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.patients.models import Patient
from neuroclinic.tms.models import TmsCourse, TmsSession
from neuroclinic.tms.tests import factories


@pytest.fixture
def tms_course(patient: Patient, tms: User, prescriber: User) -> TmsCourse:
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber)
    return factories.course(patient, prescriber)


@pytest.fixture
def open_session(tms_course: TmsCourse, tms: User, prescriber: User) -> TmsSession:
    return factories.start(tms_course, tms, prescriber)
