"""Protocol, plan and order pages: the director signs, the prescriber plans and orders."""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import TEST_PASSWORD, login
from neuroclinic.accounts.models import User
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import InfusionOrder, Protocol, TreatmentPlan
from neuroclinic.treatment.tests import factories


def test_the_director_drafts_from_the_cited_defaults_and_signs(
    client: Client, director: User
) -> None:
    login(client, director)
    response = client.post(reverse("treatment:protocol_new"), {"kind": "induction"})
    draft = Protocol.objects.get()
    assert response.status_code == 302
    page = client.get(
        reverse("treatment:protocol", kwargs={"protocol_uuid": draft.uuid})
    )
    body = page.content.decode()
    assert "Murrough 2013" in body
    assert "Sign protocol" in body
    wrong = client.post(
        reverse("treatment:protocol", kwargs={"protocol_uuid": draft.uuid}),
        {"sign-password": "nope"},
    )
    assert "That password is not right" in wrong.content.decode()
    client.post(
        reverse("treatment:protocol", kwargs={"protocol_uuid": draft.uuid}),
        {"sign-password": TEST_PASSWORD},
    )
    draft.refresh_from_db()
    assert draft.status == Protocol.Status.ACTIVE
    listing = client.get(reverse("treatment:protocols")).content.decode()
    assert "IV ketamine induction series" in listing


def test_a_new_version_from_the_protocol_page(client: Client, director: User) -> None:
    active = factories.default_protocols(director.organization_pk, director)[
        "induction"
    ]
    login(client, director)
    page = client.get(
        reverse("treatment:protocol", kwargs={"protocol_uuid": active.uuid})
    )
    form = page.context["edit_form"]
    data = {
        f"edit-{name}": value
        for name, value in form.initial.items()
        if value is not None
    }
    data |= {
        f"edit-{k}": v
        for k, v in {"min_recovery_minutes": "60", "change_note": "Longer"}.items()
    }
    for name in form.fields:
        if name.startswith("alarm_"):
            initial = form.fields[name].initial
            data[f"edit-{name}"] = "" if initial is None else str(initial)
    # Unchecked boxes are simply absent from a form post.
    data = {k: v for k, v in data.items() if v is not False}
    response = client.post(
        reverse("treatment:protocol", kwargs={"protocol_uuid": active.uuid}), data
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    draft = Protocol.objects.get(status=Protocol.Status.DRAFT)
    assert (draft.version, draft.min_recovery_minutes) == (2, 60)


@pytest.fixture
def eligible(patient: Patient, prescriber: User, director: User) -> Patient:
    factories.ready_for_treatment(patient, prescriber)
    factories.default_protocols(patient.organization_id, director)
    return patient


def test_the_prescriber_plans_and_signs_the_order(
    client: Client, eligible: Patient, prescriber: User
) -> None:
    login(client, prescriber)
    url = reverse("treatment:plan_new", kwargs={"patient_uuid": eligible.uuid})
    page = client.get(url)
    form = page.context["form"]
    response = client.post(
        url,
        {
            "induction_protocol": form.fields["induction_protocol"].initial.pk,
            "booster_protocol": form.fields["booster_protocol"].initial.pk,
            "indication": "TRD (F33.2)",
        },
    )
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("treatment:plan", kwargs={"plan_uuid": plan.uuid}))
    body = page.content.decode()
    assert "Induction <strong>0 of 6</strong>" in body
    initial = page.context["order_form"].initial
    data = {f"order-{k}": v for k, v in initial.items()} | {
        "order-password": TEST_PASSWORD
    }
    response = client.post(
        reverse("treatment:sign_order", kwargs={"plan_uuid": plan.uuid}), data
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    order = InfusionOrder.objects.get()
    assert order.prn_medications.filter(drug="Ondansetron", route="IV").exists()


def test_a_nurse_reads_the_plan_but_cannot_order(
    client: Client, eligible: Patient, prescriber: User, director: User, nurse: User
) -> None:
    plan = factories.make_plan(eligible, prescriber, director)
    login(client, nurse)
    page = client.get(reverse("treatment:plan", kwargs={"plan_uuid": plan.uuid}))
    assert page.status_code == 200
    assert "Sign order" not in page.content.decode()
    refused = client.post(
        reverse("treatment:sign_order", kwargs={"plan_uuid": plan.uuid}), {}
    )
    assert refused.status_code == 403
