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


@pytest.fixture(autouse=True)
def _signed_tms_protocols(request: pytest.FixtureRequest) -> None:
    """A clinic signs its TMS protocols before its first order: every test of this app
    with a clinic starts with the cited defaults signed, so a refusal's "nothing written"
    is measured against a clinic as it is in use. The protocol tests start without."""
    if request.module.__name__.endswith("test_protocol_versions"):
        return
    if "organization" not in request.fixturenames:
        return
    organization = request.getfixturevalue("organization")
    factories.signed_protocols(organization.pk)
