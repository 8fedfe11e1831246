"""The course order page pins the protocol version it shows (issue 10): the choice names
the version and posts it; a newer version signed meanwhile is a form error and nothing
is written; the course page shows the version the course was ordered under."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.patients.models import Patient
from neuroclinic.tms.actions import protocols as protocol_actions
from neuroclinic.tms.models import TmsCourse, TmsProtocol
from neuroclinic.tms.tests import factories

pytestmark = pytest.mark.django_db
SignIn = Callable[[str], Client]


@pytest.fixture
def screened(patient: Patient, tms: User, prescriber: User) -> Patient:
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber)
    return patient


def order(patient: Patient, version: str) -> dict[str, str]:
    location = factories.make_location(patient.organization_id)
    return {
        "protocol_version": version,
        "target": "beam_f3",
        "acute_sessions": "30",
        "start_date": "2026-12-07",
        "location": str(location.pk),
    }


def newer(v1: TmsProtocol) -> TmsProtocol:
    signer = factories.protocol_signer(v1.organization_id)
    assert signer.organization is not None
    v2 = protocol_actions.draft_protocol(
        signer.organization, base=v1, changes={"max_makeup_sessions": 2}, by=signer
    )
    return protocol_actions.sign_protocol(
        v2, password=factories.SIGNER_PASSWORD, by=signer
    )


def test_the_page_offers_the_version_and_the_order_keeps_it(
    screened: Patient, as_persona: SignIn
) -> None:
    v1 = protocol_actions.latest_signed(screened.organization_id, "rtms-10hz")
    assert v1 is not None
    client = as_persona("prescriber")
    form = client.get(reverse("tms:order", args=[screened.uuid])).content.decode()
    assert f'value="{v1.uuid}"' in form
    assert f"{v1.name} (version {v1.version}, signed by" in form
    made = client.post(
        reverse("tms:order", args=[screened.uuid]), order(screened, str(v1.uuid))
    )
    assert made.status_code == 302
    course = TmsCourse.objects.get()
    assert course.protocol_version == v1
    page = client.get(made["Location"]).content.decode()
    assert f"{v1.name} version {v1.version}</a>" in page
    assert reverse("tms:protocol", args=[v1.uuid]) in page


def test_a_version_signed_meanwhile_is_a_form_error_and_nothing_is_written(
    screened: Patient, as_persona: SignIn
) -> None:
    v1 = protocol_actions.latest_signed(screened.organization_id, "rtms-10hz")
    assert v1 is not None
    shown = order(screened, str(v1.uuid))  # the page as the prescriber read it
    v2 = newer(v1)
    client = as_persona("prescriber")
    refused = client.post(reverse("tms:order", args=[screened.uuid]), shown)
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "not the protocol&#x27;s current signed version" in body
    assert not TmsCourse.objects.exists()
    assert f'value="{v2.uuid}"' in body  # the form now offers the new version
    made = client.post(
        reverse("tms:order", args=[screened.uuid]),
        shown | {"protocol_version": str(v2.uuid)},
    )
    assert made.status_code == 302
    assert TmsCourse.objects.get().protocol_version == v2


@pytest.mark.parametrize(
    "bad", ["", "rtms-10hz", "00000000-0000-0000-0000-000000000000"]
)
def test_an_unknown_or_missing_version_is_a_form_error(
    screened: Patient, as_persona: SignIn, bad: str
) -> None:
    response = as_persona("prescriber").post(
        reverse("tms:order", args=[screened.uuid]), order(screened, bad)
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required" in body or "Choose one of the clinic" in body
    assert not TmsCourse.objects.exists()


def test_a_draft_is_not_orderable(screened: Patient, as_persona: SignIn) -> None:
    v1 = protocol_actions.latest_signed(screened.organization_id, "rtms-10hz")
    assert v1 is not None
    signer = factories.protocol_signer(screened.organization_id)
    assert signer.organization is not None
    draft = protocol_actions.draft_protocol(
        signer.organization, base=v1, changes={"max_makeup_sessions": 2}, by=signer
    )
    response = as_persona("prescriber").post(
        reverse("tms:order", args=[screened.uuid]), order(screened, str(draft.uuid))
    )
    assert (
        "Choose one of the clinic&#x27;s signed protocols" in response.content.decode()
    )
    assert not TmsCourse.objects.exists()
