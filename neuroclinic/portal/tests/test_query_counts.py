"""Query counts of every portal page, pinned (a patient mid-intake, forms published).

The numbers include the request's own: the session read and its save (idle
timer), the patient, and the audit of reads where a page records one.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions import eligibility_decisions
from neuroclinic.intake.models import ConsentDocument
from neuroclinic.intake.tests.factories import baselines, fill_packet, publish_all
from neuroclinic.measures.actions.portal_links import create_portal_link
from neuroclinic.measures.models import PortalLink
from neuroclinic.patients.models import Patient
from neuroclinic.portal.tests.test_portal import portal

AssertNumQueries = Callable[..., Any]

SIGNED_IN_PAGES = {
    "/portal/": 12,
    "/portal/section/about/": 6,
    "/portal/section/trials/": 6,
    "/portal/section/substance/": 9,
    "/portal/questionnaires/": 9,
    "/portal/questionnaires/pcl5/": 9,
    "/portal/documents/": 6,
    "/portal/consents/": 8,
    # + TMS sessions marked on the trajectory (issue 10), + the treatment plans the
    # plain-words episode summaries read (issue 11)
    "/portal/progress/": 13,  # 13: the clinic's outcome definitions for the charts
}


@pytest.fixture
def signed_in(
    client: Client,
    patient: Patient,
    front_desk: User,
    prescriber: User,
    organization: Organization,
) -> Client:
    publish_all(organization)
    fill_packet(patient)
    baselines(patient)
    eligibility_decisions.decide_eligibility(
        patient, password=TEST_PASSWORD, outcome="eligible", by=prescriber
    )
    return portal(client, patient, front_desk)


@pytest.mark.parametrize(("path", "queries"), SIGNED_IN_PAGES.items())
def test_signed_in_pages(
    signed_in: Client,
    path: str,
    queries: int,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    with django_assert_num_queries(queries):
        assert signed_in.get(path).status_code == 200


def test_a_consent_form_page(
    signed_in: Client,
    organization: Organization,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    form = ConsentDocument.objects.get(
        organization=organization, kind="ketamine", version=1
    )
    with django_assert_num_queries(7):
        assert signed_in.get(f"/portal/consents/{form.uuid}/").status_code == 200


@pytest.mark.parametrize(
    ("channel", "prefix", "queries"),
    [(PortalLink.Channel.EMAIL, "/q/", 5), (PortalLink.Channel.KIOSK, "/kiosk/", 5)],
)
def test_a_questionnaire_by_link(
    client: Client,
    patient: Patient,
    nurse: User,
    channel: PortalLink.Channel,
    prefix: str,
    queries: int,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    _, token = create_portal_link(
        patient, instrument_codes=["phq9", "gad7"], channel=channel, by=nurse
    )
    with django_assert_num_queries(queries):
        assert client.get(f"{prefix}{token}/").status_code == 200


def test_the_sign_in_page(
    client: Client,
    patient: Patient,
    front_desk: User,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    with django_assert_num_queries(0):
        assert client.get("/portal/sign-in/any-token/").status_code == 200
