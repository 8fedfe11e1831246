"""Protocol, plan and order pages: the director signs, the prescriber plans and orders."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import TEST_PASSWORD, login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
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


def test_opening_a_plan_is_audited_as_a_read_of_the_patient(
    client: Client, eligible: Patient, prescriber: User, director: User, nurse: User
) -> None:
    plan = factories.make_plan(eligible, prescriber, director)
    login(client, nurse)

    client.get(reverse("treatment:plan", kwargs={"plan_uuid": plan.uuid}))

    read = AuditEvent.objects.get(action=AuditEvent.Action.PLAN_VIEWED)
    assert (read.actor, read.patient_id) == (nurse, eligible.pk)


# --- bad input on the pages: a field error, nothing written ------------------------------


def _counts() -> tuple[int, int, int, int]:
    return (
        Protocol.objects.count(),
        TreatmentPlan.objects.count(),
        InfusionOrder.objects.count(),
        AuditEvent.objects.filter(action__startswith="treatment.")
        .exclude(
            action__in=[
                AuditEvent.Action.SIGNATURE_REFUSED,
                AuditEvent.Action.PLAN_VIEWED,  # a read, not a write
            ]
        )
        .count(),
    )


@pytest.fixture
def planned(eligible: Patient, prescriber: User, director: User) -> TreatmentPlan:
    plan = factories.make_plan(eligible, prescriber, director)
    factories.sign_order(plan, prescriber)
    return plan


def _order_post(client: Client, plan: TreatmentPlan, **changes: str) -> Any:
    page = client.get(reverse("treatment:plan", kwargs={"plan_uuid": plan.uuid}))
    data = {f"order-{k}": v for k, v in page.context["order_form"].initial.items()}
    data |= {"order-password": TEST_PASSWORD, "order-reason": "Partial response"}
    data |= {f"order-{k}": v for k, v in changes.items()}
    return client.post(
        reverse("treatment:sign_order", kwargs={"plan_uuid": plan.uuid}), data
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"dose_mg_per_kg": "half"}, "dose_mg_per_kg", "Enter a number."),
        (
            {"dose_mg_per_kg": "1.2", "max_dose_mg_per_kg": "1.2"},
            "max_dose_mg_per_kg",
            "ceiling",
        ),
        ({"prn_text": "Ondansetron | four | mg | IV | Nausea"}, "prn_text", None),
        ({"password": "not it"}, "password", "That password is not right"),
        ({"reason": ""}, "reason", "Say why the dose changes."),
    ],
)
def test_a_bad_order_on_the_page_is_a_field_error_and_writes_nothing(
    client: Client,
    planned: TreatmentPlan,
    prescriber: User,
    changes: dict[str, str],
    field: str,
    message: str | None,
) -> None:
    login(client, prescriber)
    before = _counts()

    response = _order_post(client, planned, **changes)

    assert response.status_code == 200
    form = response.context["order_form"]
    assert field in form.errors, form.errors
    if message:
        assert message in " ".join(form.errors[field])
    assert _counts() == before
    assert planned.orders.get().status == InfusionOrder.Status.ACTIVE
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SIGNATURE_REFUSED
    ).exists() == (field == "password")


def test_a_dose_change_on_the_page_supersedes_the_order(
    client: Client, planned: TreatmentPlan, prescriber: User
) -> None:
    login(client, prescriber)
    response = _order_post(client, planned, dose_mg_per_kg="0.6")
    assert response.status_code == 302
    assert [o.status for o in planned.orders.order_by("signed_at", "id")] == [
        InfusionOrder.Status.SUPERSEDED,
        InfusionOrder.Status.ACTIVE,
    ]


def test_a_new_plan_without_eligibility_says_why_and_writes_nothing(
    client: Client, patient: Patient, prescriber: User, director: User
) -> None:
    factories.default_protocols(patient.organization_id, director)
    login(client, prescriber)
    url = reverse("treatment:plan_new", kwargs={"patient_uuid": patient.uuid})
    page = client.get(url)
    assert (
        "No signed eligibility decision" in page.content.decode()
        or page.context["blocks"]
    )
    form = page.context["form"]
    before = _counts()

    response = client.post(
        url,
        {
            "induction_protocol": form.fields["induction_protocol"].initial.pk,
            "booster_protocol": form.fields["booster_protocol"].initial.pk,
            "indication": "TRD",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert _counts() == before


def test_a_new_plan_needs_an_indication(
    client: Client, eligible: Patient, prescriber: User
) -> None:
    login(client, prescriber)
    url = reverse("treatment:plan_new", kwargs={"patient_uuid": eligible.uuid})
    form = client.get(url).context["form"]
    before = _counts()

    response = client.post(
        url,
        {
            "induction_protocol": form.fields["induction_protocol"].initial.pk,
            "indication": "",
        },
    )

    assert response.status_code == 200
    assert "indication" in response.context["form"].errors
    assert _counts() == before


def test_a_second_plan_opens_the_first(
    client: Client, planned: TreatmentPlan, prescriber: User
) -> None:
    login(client, prescriber)
    response = client.get(
        reverse("treatment:plan_new", kwargs={"patient_uuid": planned.patient.uuid})
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "treatment:plan", kwargs={"plan_uuid": planned.uuid}
    )


def test_discontinue_and_end_need_a_reason_on_the_page(
    client: Client, planned: TreatmentPlan, prescriber: User
) -> None:
    login(client, prescriber)
    kwargs = {"plan_uuid": planned.uuid}
    before = _counts()
    refused = client.post(
        reverse("treatment:discontinue_order", kwargs=kwargs),
        {"discontinue-reason": ""},
    )
    assert refused.status_code == 200
    assert "reason" in refused.context["discontinue_form"].errors
    refused = client.post(
        reverse("treatment:end_plan", kwargs=kwargs), {"end-reason": ""}
    )
    assert "reason" in refused.context["end_form"].errors
    assert _counts() == before

    done = client.post(
        reverse("treatment:discontinue_order", kwargs=kwargs),
        {"discontinue-reason": "Side effects"},
    )
    assert done.status_code == 302
    assert planned.orders.get().status == InfusionOrder.Status.DISCONTINUED
    assert (
        client.post(
            reverse("treatment:discontinue_order", kwargs=kwargs),
            {"discontinue-reason": "Again"},
        ).status_code
        == 404
    )
    ended = client.post(
        reverse("treatment:end_plan", kwargs=kwargs), {"end-reason": "Moved away"}
    )
    assert ended["Location"] == reverse(
        "patients:chart", kwargs={"patient_uuid": planned.patient.uuid}
    )
    planned.refresh_from_db()
    assert planned.status == TreatmentPlan.Status.ENDED
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PLAN_ENDED).count() == 1


def test_a_contradictory_protocol_version_is_a_field_error(
    client: Client, director: User
) -> None:
    active = factories.default_protocols(director.organization_pk, director)[
        "induction"
    ]
    login(client, director)
    url = reverse("treatment:protocol", kwargs={"protocol_uuid": active.uuid})
    form = client.get(url).context["edit_form"]
    data = {
        f"edit-{name}": value
        for name, value in form.initial.items()
        if value is not None and value is not False
    }
    for name in form.fields:
        if name.startswith("alarm_") and form.fields[name].initial is not None:
            data[f"edit-{name}"] = str(form.fields[name].initial)
    before = _counts()

    too_high = client.post(url, data | {"edit-dose_mg_per_kg": "1.2"})
    bad_prn = client.post(url, data | {"edit-prn_text": "Ondansetron | 4 | mg"})

    assert "dose_mg_per_kg" in too_high.context["edit_form"].errors
    assert "prn_text" in bad_prn.context["edit_form"].errors
    assert _counts() == before


def test_an_unknown_kind_of_protocol_is_not_found(
    client: Client, director: User
) -> None:
    login(client, director)
    response = client.post(reverse("treatment:protocol_new"), {"kind": "ketamine"})
    assert response.status_code == 404
    assert not Protocol.objects.exists()


def test_only_the_director_changes_a_protocol_on_its_page(
    client: Client, director: User, prescriber: User
) -> None:
    active = factories.default_protocols(director.organization_pk, director)[
        "induction"
    ]
    login(client, prescriber)
    url = reverse("treatment:protocol", kwargs={"protocol_uuid": active.uuid})
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["edit_form"] is None
    before = _counts()
    assert client.post(url, {"sign-password": TEST_PASSWORD}).status_code == 403
    assert _counts() == before
