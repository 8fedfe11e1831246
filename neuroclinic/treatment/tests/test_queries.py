"""Query counts of the treatment pages that list rows, pinned (django_assert_num_queries):
the protocols and their versions, and a plan with its orders. Each is counted with one
row and again with three."""

from decimal import Decimal

from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions import protocols
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.models import Protocol
from neuroclinic.treatment.tests import factories

PROTOCOLS = 10
PROTOCOL = 12
PLAN = 19  # with the audited read of the plan (its hash-chained event, one statement)


def test_the_protocol_list_and_page_cost_the_same_with_three_versions_as_with_one(
    client: Client, director: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    assert director.organization is not None
    active = factories.default_protocols(director.organization_pk, director)[
        ProtocolKind.INDUCTION
    ]
    login(client, director)
    page = reverse("treatment:protocol", kwargs={"protocol_uuid": active.uuid})
    for versions in (1, 3):
        while Protocol.objects.filter(family=active.family).count() < versions:
            protocols.draft_protocol(
                director.organization,
                kind=ProtocolKind.INDUCTION,
                base=active,
                changes={"min_recovery_minutes": 30 + versions},
                by=director,
            )
        with django_assert_num_queries(PROTOCOLS):
            assert client.get(reverse("treatment:protocols")).status_code == 200
        with django_assert_num_queries(PROTOCOL):
            assert client.get(page).status_code == 200


def test_a_plan_costs_the_same_with_three_orders_as_with_one(
    client: Client,
    patient: Patient,
    prescriber: User,
    director: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    factories.ready_for_treatment(patient, prescriber)
    plan = factories.make_plan(patient, prescriber, director)
    order = factories.sign_order(plan, prescriber)
    login(client, prescriber)
    url = reverse("treatment:plan", kwargs={"plan_uuid": plan.uuid})
    for count in (1, 3):
        while plan.orders.count() < count:
            order = factories.sign_order(
                plan,
                prescriber,
                dose_mg_per_kg=order.dose_mg_per_kg + Decimal("0.05"),
                supersedes=order,
                reason="Partial response",
            )
        with django_assert_num_queries(PLAN):
            assert client.get(url).status_code == 200
