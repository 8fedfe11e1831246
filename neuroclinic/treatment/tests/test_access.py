"""Who may reach each treatment endpoint: every persona against every endpoint.

The role is checked first (403 says nothing about a patient), then whether the user may
see the patient (404 for another clinic's patient, or a role without the patient list);
anonymous visitors go to sign-in. Each write is sent with data that would be written:
a refused request must write nothing.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PERSONA_ROLES, TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import ROLE_CAPABILITIES, Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions import protocols
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.forms import OrderForm
from neuroclinic.treatment.models import InfusionOrder, Protocol, TreatmentPlan
from neuroclinic.treatment.tests import factories

PERSONAS = [*PERSONA_ROLES, "outsider", "anonymous"]
# What each persona's role grants, from the one permission matrix (accounts/roles.py).
ROLES = {persona: ROLE_CAPABILITIES[role] for persona, role in PERSONA_ROLES.items()}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    capability: Capability
    scope: str  # "patient", "clinic" (another clinic's row is 404) or "list"


ENDPOINTS = [
    Endpoint("protocols", "GET", Capability.VIEW_INFUSIONS, "list"),
    Endpoint("draft protocol", "POST", Capability.MANAGE_PROTOCOLS, "list"),
    Endpoint("protocol", "GET", Capability.VIEW_INFUSIONS, "clinic"),
    Endpoint("sign protocol", "POST", Capability.VIEW_INFUSIONS, "clinic"),
    Endpoint("new plan page", "GET", Capability.WRITE_ORDERS, "patient"),
    Endpoint("create plan", "POST", Capability.WRITE_ORDERS, "patient"),
    Endpoint("plan", "GET", Capability.VIEW_INFUSIONS, "patient"),
    Endpoint("sign order", "POST", Capability.WRITE_ORDERS, "patient"),
    Endpoint("discontinue order", "POST", Capability.WRITE_ORDERS, "patient"),
    Endpoint("end plan", "POST", Capability.WRITE_ORDERS, "patient"),
]


def expected(persona: str, endpoint: Endpoint) -> int:
    if persona == "anonymous":
        return 302
    capabilities = ROLES["nurse" if persona == "outsider" else persona]
    if endpoint.capability not in capabilities:
        return 403
    if persona == "outsider" and endpoint.scope != "list":
        return 404
    if endpoint.scope == "patient" and Capability.VIEW_PATIENT_LIST not in capabilities:
        return 404
    if endpoint.name == "sign protocol" and (
        Capability.MANAGE_PROTOCOLS not in capabilities
    ):
        return 403  # the page is for every viewer; signing is the director's
    return 200


@dataclass
class Scene:
    plan: TreatmentPlan
    unplanned: Patient
    protocol: Protocol
    draft: Protocol


@pytest.fixture
def scene(
    patient: Patient, prescriber: User, director: User, front_desk: User
) -> Scene:
    factories.ready_for_treatment(patient, prescriber)
    plan = factories.make_plan(patient, prescriber, director)
    factories.sign_order(plan, prescriber)
    assert front_desk.organization is not None
    unplanned = patient_actions.register_patient(
        front_desk.organization,
        by=front_desk,
        family_name="Samplesworth",
        given_name="Robin",
        birth_date=date(1990, 6, 1),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )
    factories.ready_for_treatment(unplanned, prescriber)
    assert director.organization is not None
    draft = protocols.draft_protocol(
        director.organization, kind=ProtocolKind.BOOSTER, by=director
    )
    return Scene(plan, unplanned, plan.induction_protocol, draft)


def _order_data(plan: TreatmentPlan) -> dict[str, object]:
    initial = OrderForm.initial_from(
        plan.induction_protocol, InfusionOrder.Kind.INDUCTION, plan.orders.get()
    )
    return {f"order-{k}": v for k, v in initial.items()} | {
        "order-dose_mg_per_kg": "0.6",
        "order-reason": "Partial response",
        "order-password": TEST_PASSWORD,
    }


def request_for(endpoint: Endpoint, scene: Scene) -> Callable[[Client], int]:
    plan = {"plan_uuid": scene.plan.uuid}
    protocol = {"protocol_uuid": scene.protocol.uuid}

    def get(path: str) -> Callable[[Client], int]:
        return lambda c: c.get(path).status_code

    def post(path: str, data: Mapping[str, object]) -> Callable[[Client], int]:
        return lambda c: c.post(path, data).status_code

    new_plan = reverse(
        "treatment:plan_new", kwargs={"patient_uuid": scene.unplanned.uuid}
    )
    return {
        "protocols": get(reverse("treatment:protocols")),
        "draft protocol": post(reverse("treatment:protocol_new"), {"kind": "booster"}),
        "protocol": get(reverse("treatment:protocol", kwargs=protocol)),
        "sign protocol": post(
            reverse("treatment:protocol", kwargs={"protocol_uuid": scene.draft.uuid}),
            {"sign-password": TEST_PASSWORD},
        ),
        "new plan page": get(new_plan),
        "create plan": post(
            new_plan,
            {
                "induction_protocol": scene.plan.induction_protocol_id,
                "indication": "TRD (F33.2)",
            },
        ),
        "plan": get(reverse("treatment:plan", kwargs=plan)),
        "sign order": post(
            reverse("treatment:sign_order", kwargs=plan), _order_data(scene.plan)
        ),
        "discontinue order": post(
            reverse("treatment:discontinue_order", kwargs=plan),
            {"discontinue-reason": "Side effects"},
        ),
        "end plan": post(
            reverse("treatment:end_plan", kwargs=plan), {"end-reason": "Moved away"}
        ),
    }[endpoint.name]


def written() -> tuple[int, ...]:
    return (
        Protocol.objects.count(),
        TreatmentPlan.objects.count(),
        InfusionOrder.objects.exclude(status=InfusionOrder.Status.ACTIVE).count(),
        InfusionOrder.objects.count(),
        TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ENDED).count(),
        AuditEvent.objects.filter(action__startswith="treatment.")
        .exclude(action=AuditEvent.Action.PLAN_VIEWED)  # a read, not a write
        .count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_access(
    persona: str,
    endpoint: Endpoint,
    as_persona: Callable[[str], Client],
    scene: Scene,
) -> None:
    client = as_persona(persona)
    before = written()

    status = request_for(endpoint, scene)(client)

    want = expected(persona, endpoint)
    if want == 200 and status == 302:
        status = 200  # a form post redirects when done
    assert status == want, f"{persona} {endpoint.name}: {status}"
    if want != 200 or endpoint.method == "GET":
        assert written() == before, f"{persona} {endpoint.name} wrote"
    else:
        assert written() != before, f"{persona} {endpoint.name} wrote nothing"


def test_a_protocol_of_another_clinic_is_not_found(
    as_persona: Callable[[str], Client], scene: Scene
) -> None:
    assert scene.protocol.kind == ProtocolKind.INDUCTION
    client = as_persona("outsider")
    response = client.get(
        reverse("treatment:protocol", kwargs={"protocol_uuid": scene.protocol.uuid})
    )
    assert response.status_code == 404
